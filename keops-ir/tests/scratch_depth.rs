use keops_ir::{Alias, Kernel, Reduction, parser};
#[test]
fn chain() {
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let st: usize = std::env::var("ST").unwrap().parse().unwrap();
    let which: usize = std::env::var("W").unwrap().parse().unwrap();
    let f = format!("x{}", "+x".repeat(n));
    let printed = parser::parse(&f).unwrap().to_string();
    std::thread::Builder::new().stack_size(st * 1024).spawn(move || {
        let al = [Alias::parse("x = Vi(3)").unwrap()];
        match which {
            0 => { eprintln!("parse orig"); let e = parser::parse(&f).unwrap(); eprintln!("print"); let _ = e.to_string(); eprintln!("same"); e.same_shape(&e); }
            1 => { eprintln!("parse printed"); let e = parser::parse(&printed); eprintln!("ok {}", e.is_ok()); }
            _ => { eprintln!("build"); let k = Kernel::build(&f, None, &al, Reduction::Sum, 1); eprintln!("ok {}", k.is_ok()); }
        }
    }).unwrap().join().unwrap();
}
