"""Training: classifiers (:mod:`advlib.train.classifier`, plain and adversarial, cached by
:func:`~advlib.train.classifier.fit_victim`) and adversarial generators
(:mod:`advlib.train.generator`, the GAN paper's Algorithm 1)."""
