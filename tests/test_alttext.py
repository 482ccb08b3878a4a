"""Alt text for the book's figures: described from the figure, copied where MyST-NB reads it."""

import matplotlib.pyplot as plt
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from advlib.tools.alttext import describe, install
from advlib.tools.nbtools import add_alt_text, main


def test_describe_reads_titles_labels_and_legends():
    fig, ax = plt.subplots()
    ax.plot([0, 1], label="penalty")
    ax.plot([1, 0], label="iterative")
    ax.legend()
    ax.set_title("ASR per victim")
    ax.set_xlabel("budget $\\epsilon$")
    ax.set_ylabel("ASR")
    text = describe(fig)
    assert text.startswith("Figure (chart): ASR per victim")
    assert "ASR against budget \\epsilon" in text and "legend: penalty, iterative" in text
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    axes[0].imshow([[0, 1], [1, 0]])
    axes[1].imshow([[0, 1], [1, 0]])
    axes[0].set_title("original")
    fig.suptitle("success matrices")
    text = describe(fig)
    assert text.startswith("Figure with 2 panels (heat map): success matrices")
    assert "original" in text
    plt.close(fig)
    fig = plt.figure()
    assert describe(fig) == "Figure (chart)"  # nothing to say, but never empty
    plt.close(fig)


def test_install_is_a_no_op_outside_ipython():
    assert install() is False


def _nb(tmp_path):
    img = {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}
    cells = [
        new_markdown_cell("# Page\n\n## Table 1: the comparison"),
        new_code_cell("a", outputs=[
            new_output("display_data", data=img, metadata={"image/png": {"alt": "Figure: A"}}),
            new_output("display_data", data=img, metadata={"image/png": {"alt": "Figure: B"}}),
        ]),
        new_code_cell("b", outputs=[new_output("display_data", data=img)]),
        new_code_cell("c", outputs=[new_output("stream", name="stdout", text="hi")]),
    ]  # fmt: skip
    cells[2].metadata["mystnb"] = {}
    path = tmp_path / "p.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_add_alt_text_copies_figure_texts_and_falls_back_to_the_section(tmp_path):
    path = _nb(tmp_path)
    assert add_alt_text(path) == 2
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].metadata["mystnb"]["image"]["alt"] == "Figure: A / Figure: B"
    assert nb.cells[2].metadata["mystnb"]["image"]["alt"] == (
        "Figure in section: Table 1: the comparison"
    )
    assert "mystnb" not in nb.cells[3].metadata  # no image, no alt
    # idempotent, and an alt text written by hand is kept
    nb.cells[1].metadata["mystnb"]["image"]["alt"] = "by hand"
    nbformat.write(nb, path)
    main(["alt-text", str(path)])
    assert nbformat.read(path, as_version=4).cells[1].metadata["mystnb"]["image"]["alt"] == (
        "by hand"
    )
