//! The CPU engine: vector math, lane lowerings of the operations, accumulators, ISA dispatch and the
//! tiled parallel driver.

pub mod accum;
pub mod driver;
pub mod lanes;
pub mod simd;
pub mod vmath;
