"""Write data/diabetes_bmi_s5.csv from scikit-learn's bundled diabetes data set.

Source: the diabetes data of Efron, Hastie, Johnstone and Tibshirani, "Least Angle
Regression", Annals of Statistics 32 (2004), as shipped inside scikit-learn
(sklearn.datasets.load_diabetes, BSD-3-Clause licence; no download: the file is part of the
scikit-learn wheel). 442 patients, 10 baseline variables, target = a quantitative measure of
disease progression one year after baseline.

This script keeps two inputs, body-mass index (`bmi`) and the log of serum triglycerides
(`s5`, "ltg"), the two variables that the lasso path of the paper selects first, and the
target. Each of the three columns is standardised with its own mean and population standard
deviation (ddof = 0) over all 442 rows: z = (v - mean) / std. Rows keep the original order.
Values are written with 6 decimals.

Run:  python3 -m pip install scikit-learn   (tested with scikit-learn 1.9.1, numpy 2.x)
      python3 data/make_diabetes.py          (writes data/diabetes_bmi_s5.csv next to it)
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes


def main() -> None:
    d = load_diabetes(scaled=False)
    names = list(d.feature_names)
    x = d.data[:, [names.index("bmi"), names.index("s5")]]
    y = d.target
    cols = np.column_stack([x, y])
    z = (cols - cols.mean(axis=0)) / cols.std(axis=0)
    out = Path(__file__).with_name("diabetes_bmi_s5.csv")
    with out.open("w") as f:
        f.write("bmi,s5,y\n")
        for row in z:
            f.write(",".join(f"{v:.6f}" for v in row) + "\n")
    # the least-squares linear fit y ≈ b·x (no intercept: every column has mean 0), for the
    # README's baseline
    b, *_ = np.linalg.lstsq(z[:, :2], z[:, 2], rcond=None)
    r = np.mean((z[:, 2] - z[:, :2] @ b) ** 2)
    print(f"wrote {out} ({len(z)} rows); linear least squares b = {b}, mean squared residual {r:.5f}")


if __name__ == "__main__":
    main()
