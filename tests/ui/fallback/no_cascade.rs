use keops::prelude::*;
use ndarray::Array2;

keops! {
    pub struct Broken {
        formula: "Exp(-SqDist(x, w)) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

fn main() {
    let x = Array2::<f64>::zeros((4, 3));
    let a = Array2::<f64>::zeros((4, 2));
    // The only error is the formula's: the use site compiles against the fallback type.
    let _ = Broken.call(&x, &x, &a);
}
