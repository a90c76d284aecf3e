use keops_gpu_kernels::*;
use keops_ir::{Alias, Kernel, Reduction};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let red = Reduction::from_name(&args[1], args.get(2).map(|k| k.parse().unwrap())).unwrap();
    let al = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"].map(|a| Alias::parse(a).unwrap());
    let (f, f2) = if red.is_sum_type() && red != Reduction::Sum {
        ("-SqDist(x, y)", Some("b"))
    } else {
        ("Exp(-SqDist(x, y)) * b", None)
    };
    let k = Kernel::build(f, f2, &al, red, 1).unwrap();
    let s = match std::env::var("SCHEME").as_deref() {
        Ok("kahan") => SumScheme::Kahan,
        Ok("direct") => SumScheme::Direct,
        _ => SumScheme::Auto,
    };
    println!(
        "{}",
        cuda_source(&k, Dtype::F32, &CudaOptions::new().sum_scheme(s)).source
    );
}
