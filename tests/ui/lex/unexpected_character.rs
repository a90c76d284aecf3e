use keops::prelude::*;

keops! {
    pub struct K {
        formula: "Exp(x # y) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

fn main() {}
