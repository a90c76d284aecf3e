use keops::prelude::*;

keops! {
    pub struct K {
        formula: "x - y",
        aliases: [x = Vi(3), y = Vj(3)],
        reduction: LogSumExp,
        axis: 1,
    }
}

fn main() {}
