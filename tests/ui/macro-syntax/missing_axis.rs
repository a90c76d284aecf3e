use keops::prelude::*;

keops! {
    pub struct K {
        formula: "SqDist(x, y)",
        aliases: [x = Vi(3), y = Vj(3)],
        reduction: Sum,
    }
}

fn main() {}
