use keops::prelude::*;

keops! {
    pub struct K {
        formula: "Exp(-SqDist(x, y)) * Exp(a)",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        solve: a,
        axis: 1,
    }
}

fn main() {}
