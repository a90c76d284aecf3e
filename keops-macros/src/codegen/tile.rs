//! The tile body: straight-line Rust, one `let` per IR node with its dimension a constant, each op a call
//! to its lane lowering in `keops::__private::lanes`.

use keops_ir::{Binary, Kernel, Op, Slot, Ternary, Unary};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

fn f64_tokens(v: f64) -> TokenStream {
    if v.is_nan() {
        quote!(f64::NAN)
    } else if v == f64::INFINITY {
        quote!(f64::INFINITY)
    } else if v == f64::NEG_INFINITY {
        quote!(f64::NEG_INFINITY)
    } else {
        let lit = Literal::f64_suffixed(v);
        quote!(#lit)
    }
}

fn unary_tokens(u: Unary, k: &TokenStream) -> TokenStream {
    match u {
        Unary::Pow(m) => quote!(#k::Unary::Pow(#m)),
        Unary::Round(d) => quote!(#k::Unary::Round(#d)),
        Unary::ClampInt(a, b) => quote!(#k::Unary::ClampInt(#a, #b)),
        Unary::DiffClampInt(a, b) => quote!(#k::Unary::DiffClampInt(#a, #b)),
        Unary::Minus
        | Unary::Exp
        | Unary::Log
        | Unary::XLogX
        | Unary::Sin
        | Unary::Cos
        | Unary::SinXDivX
        | Unary::Asin
        | Unary::Acos
        | Unary::Atan
        | Unary::Sqrt
        | Unary::Rsqrt
        | Unary::Inv
        | Unary::Square
        | Unary::Abs
        | Unary::Sign
        | Unary::Step
        | Unary::ReLU
        | Unary::Floor => {
            let id = format_ident!("{}", u.name());
            quote!(#k::Unary::#id)
        }
    }
}

fn binary_tokens(b: Binary, k: &TokenStream) -> TokenStream {
    let id = format_ident!("{}", b.name());
    quote!(#k::Binary::#id)
}

fn ternary_tokens(t: Ternary, k: &TokenStream) -> TokenStream {
    let id = format_ident!("{}", t.name());
    quote!(#k::Ternary::#id)
}

/// The tile body for `kernel` (`o`, `i`, `p`: outer, inner and parameter packs; `out`: F then the
/// weight formula).
pub fn eval_body(kernel: &Kernel, k: &TokenStream) -> TileBody {
    let layout = kernel.layout();
    let mut stmts = Vec::new();
    let name = |id: usize| format_ident!("__n{}", id);
    for (id, node) in kernel.ir.nodes.iter().enumerate() {
        let n = name(id);
        let d = node.dim;
        let args: Vec<_> = node.args.iter().map(|a| name(a.index())).collect();
        let zero = quote!(<T::Pack as #k::Pack>::zero());
        let decl = quote!(let mut #n = [#zero; #d];);
        let call = match &node.op {
            Op::Var(v) => {
                let (slot, at) = layout.vars[*v as usize];
                let src = match slot {
                    Slot::Outer => quote!(o),
                    Slot::Inner => quote!(i),
                    Slot::Param => quote!(p),
                };
                let end = at + d;
                quote!(#n.copy_from_slice(&#src[#at..#end]);)
            }
            Op::Const(c) => {
                let v = f64_tokens(c.0);
                quote!(#k::lanes::constant(&mut #n, #v);)
            }
            Op::Zero => quote!(),
            Op::Unary(u) => {
                let u = unary_tokens(*u, k);
                let a = &args[0];
                quote!(#k::lanes::unary(#u, &mut #n, &#a);)
            }
            Op::Binary(b) => {
                let b = binary_tokens(*b, k);
                let (a0, a1) = (&args[0], &args[1]);
                quote!(#k::lanes::binary(#b, &mut #n, &#a0, &#a1);)
            }
            Op::Ternary(t) => {
                let t = ternary_tokens(*t, k);
                let (a0, a1, a2) = (&args[0], &args[1], &args[2]);
                quote!(#k::lanes::ternary(#t, &mut #n, &#a0, &#a1, &#a2);)
            }
            Op::Sum => {
                let a = &args[0];
                quote!(#k::lanes::sum(&mut #n, &#a);)
            }
            Op::SumT => {
                let a = &args[0];
                quote!(#k::lanes::sum_t(&mut #n, &#a);)
            }
            Op::Max | Op::Min | Op::ArgMax | Op::ArgMin => {
                let a = &args[0];
                let (max, arg) = match node.op {
                    Op::Max => (true, false),
                    Op::Min => (false, false),
                    Op::ArgMax => (true, true),
                    _ => (false, true),
                };
                quote!(#k::lanes::extremum::<_, #max, #arg>(&mut #n, &#a);)
            }
            Op::Scalprod => {
                let (a0, a1) = (&args[0], &args[1]);
                quote!(#k::lanes::scalprod(&mut #n, &#a0, &#a1);)
            }
            Op::Select(idx) => {
                let a = &args[0];
                quote!(#k::lanes::select(&mut #n, &#a, &[#(#idx),*]);)
            }
            Op::Place(idx) => {
                let a = &args[0];
                quote!(#k::lanes::place(&mut #n, &#a, &[#(#idx),*]);)
            }
            Op::Concat => {
                let (a0, a1) = (&args[0], &args[1]);
                quote!(#k::lanes::concat(&mut #n, &#a0, &#a1);)
            }
            Op::OneHot => {
                let a = &args[0];
                quote!(#k::lanes::one_hot(&mut #n, &#a);)
            }
            Op::TensorDot(terms) => {
                let (a0, a1) = (&args[0], &args[1]);
                let t = terms.iter().map(|[o, x, y]| quote!([#o, #x, #y]));
                quote!(#k::lanes::tensordot(&mut #n, &#a0, &#a1, &[#(#t),*]);)
            }
        };
        stmts.push(quote!(#decl #call));
    }
    let f = name(kernel.formula.index());
    let d = kernel.dim();
    let mut tail = quote!(out[..#d].copy_from_slice(&#f););
    if let Some(g) = kernel.formula2 {
        let gname = name(g.index());
        let dg = kernel.dim2();
        let end = d + dg;
        tail = quote!(#tail out[#d..#end].copy_from_slice(&#gname););
    }
    TileBody {
        stmts: quote!(#(#stmts)*),
        tail,
        result: f,
        dim: d,
        inner_dim: layout.inner_dim,
    }
}

/// The statements evaluating every node, and how the result leaves.
pub struct TileBody {
    /// One `let` per node.
    pub stmts: TokenStream,
    /// Copies F (and the weight formula) into `out`.
    pub tail: TokenStream,
    /// The variable holding F.
    pub result: syn::Ident,
    /// F's dimension.
    pub dim: usize,
    /// Total dimension of the inner variables.
    pub inner_dim: usize,
}

impl TileBody {
    /// `TileFormula::eval`.
    pub fn eval_fn(&self, k: &TokenStream) -> TokenStream {
        let (stmts, tail) = (&self.stmts, &self.tail);
        quote! {
            #[inline(always)]
            #[allow(unused_mut, unused_variables, clippy::all)]
            fn eval(&self, o: &[T::Pack], i: &[T::Pack], p: &[T::Pack], _s: &mut [T::Pack], out: &mut [T::Pack]) {
                let _ = <T::Pack as #k::Pack>::LANES;
                #stmts
                #tail
            }
        }
    }

    /// `TileFormula::sum_packs` for `Sum` kernels: the lane accumulators live in locals (registers)
    /// across the whole loop over packs.
    pub fn sum_packs_fn(&self, k: &TokenStream) -> TokenStream {
        let (stmts, f, d, id) = (&self.stmts, &self.result, self.dim, self.inner_dim);
        if id == 0 {
            return quote!();
        }
        quote! {
            #[inline(always)]
            #[allow(unused_mut, unused_variables, clippy::all)]
            fn sum_packs(&self, o: &[T::Pack], inner: &[T::Pack], _inner_dim: usize, p: &[T::Pack], _s: &mut [T::Pack], _out: &mut [T::Pack], acc: &mut [T::Pack]) {
                let mut __acc = [<T::Pack as #k::Pack>::zero(); #d];
                __acc.copy_from_slice(&acc[..#d]);
                for i in inner.chunks_exact(#id) {
                    #stmts
                    for c in 0..#d {
                        __acc[c] = #k::Pack::add(__acc[c], #f[c]);
                    }
                }
                acc[..#d].copy_from_slice(&__acc);
            }
        }
    }
}
