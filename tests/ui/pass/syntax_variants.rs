use keops::prelude::*;
use ndarray::{Array2, array};

keops! {
    /// Item form with explicit indices, a parameter and K in the reduction.
    pub(crate) struct Knn {
        formula: "WeightedSqDist(s, x, y)",
        aliases: [y = Vj(1, 2), x = Vi(0, 2), s = Pm(1)],
        reduction: ArgKMin(2),
        axis: 1,
    }
}

keops! {
    struct Lse {
        formula: "-SqDist(x, y)",
        formula2: "b",
        aliases: [x = Vi(2), y = Vj(2), b = Vj(1)],
        reduction: LogSumExp,
        axis: 0,
    }
}

fn main() -> Result<(), Error> {
    let x = array![[0.0f64, 0.0], [1.0, 0.0], [3.0, 0.0]];
    let s = [1.0f64];
    let idx: Array2<usize> = Knn.call(&x, &x, &s[..])?;
    assert_eq!(idx.row(2).to_vec(), vec![2, 1]);
    let b = array![[1.0f64], [1.0], [1.0]];
    let l = Lse.call(&x, &x, &b)?;
    assert_eq!(l.dim(), (3, 1));
    // The expression form, `key = value`.
    let conv = keops!(formula = "Exp(-SqDist(x, y)) * b", aliases = [x = Vi(2), y = Vj(2), b = Vj(1)],
                      reduction = Sum, axis = 1);
    let out = conv.call(&x, &x, &b)?;
    assert!((out[[0, 0]] - (1.0 + (-1.0f64).exp() + (-9.0f64).exp())).abs() < 1e-12);
    Ok(())
}
