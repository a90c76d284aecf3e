use keops::prelude::*;

keops! {
    pub struct K {
        formula: "Elem(x, 3) * a",
        aliases: [x = Vi(3), y = Vj(3), a = Vj(2)],
        reduction: Sum,
        axis: 1,
    }
}

fn main() {}
