"""examples/notebooks/quickstart.ipynb runs without error (nbclient, the venv's kernel)."""

import nbclient
import nbformat

from conftest import EXAMPLES


def test_quickstart_notebook_runs():
    path = EXAMPLES / "notebooks" / "quickstart.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    # the plots were drawn
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in nb.cells for o in c.get("outputs", []))
