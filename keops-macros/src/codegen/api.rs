//! The generated type: a unit struct, its `TileFormula` impl, and `call` / `call_with` (Genred) or
//! `call` / `solver` (`KernelSolve`), all delegating to `keops::__private`.

use keops_ir::{Cat, Kernel, OutputKind, Reduction};
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};

use super::tile::eval_body;
use crate::input::KeopsInput;

fn cat_tokens(c: Cat, k: &TokenStream) -> TokenStream {
    match c {
        Cat::Vi => quote!(#k::Cat::Vi),
        Cat::Vj => quote!(#k::Cat::Vj),
        Cat::Pm => quote!(#k::Cat::Pm),
    }
}

fn reduction_tokens(r: Reduction, k: &TokenStream) -> TokenStream {
    match r {
        Reduction::Sum => quote!(#k::Reduction::Sum),
        Reduction::Min => quote!(#k::Reduction::Min),
        Reduction::Max => quote!(#k::Reduction::Max),
        Reduction::ArgMin => quote!(#k::Reduction::ArgMin),
        Reduction::ArgMax => quote!(#k::Reduction::ArgMax),
        Reduction::MinArgMin => quote!(#k::Reduction::MinArgMin),
        Reduction::MaxArgMax => quote!(#k::Reduction::MaxArgMax),
        Reduction::KMin(n) => quote!(#k::Reduction::KMin(#n)),
        Reduction::ArgKMin(n) => quote!(#k::Reduction::ArgKMin(#n)),
        Reduction::KMinArgKMin(n) => quote!(#k::Reduction::KMinArgKMin(#n)),
        Reduction::LogSumExp => quote!(#k::Reduction::LogSumExp),
        Reduction::SumSoftMaxWeight => quote!(#k::Reduction::SumSoftMaxWeight),
    }
}

fn family_tokens(r: Reduction, k: &TokenStream) -> TokenStream {
    match r {
        Reduction::Sum => quote!(#k::SumFamily),
        Reduction::Min | Reduction::ArgMin | Reduction::MinArgMin => quote!(#k::MinFamily),
        Reduction::Max | Reduction::ArgMax | Reduction::MaxArgMax => quote!(#k::MaxFamily),
        Reduction::KMin(_) | Reduction::ArgKMin(_) | Reduction::KMinArgKMin(_) => {
            quote!(#k::KMinFamily)
        }
        Reduction::LogSumExp | Reduction::SumSoftMaxWeight => quote!(#k::LogSumExpFamily),
    }
}

/// The argument names of `call`, in call order (prefixed so they cannot clash with our own locals).
fn arg_idents(kernel: &Kernel) -> Vec<syn::Ident> {
    kernel
        .ir
        .vars
        .iter()
        .map(|v| format_ident!("{}", sanitize(&v.name)))
        .collect()
}

fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__keops_arg_{}", s.trim_matches('_'))
}

/// Everything emitted for a valid input.
pub fn generate(input: &KeopsInput, kernel: &Kernel, solve_slot: Option<usize>) -> TokenStream {
    let krate = &input.krate;
    let k = quote!(#krate::__private);
    let name = input
        .name
        .clone()
        .unwrap_or_else(|| format_ident!("__KeopsKernel", span = Span::call_site()));
    let vis = &input.vis;
    let attrs = &input.attrs;
    let body = eval_body(kernel, &k);
    let eval_fn = body.eval_fn(&k);
    let sum_fn = if kernel.reduction == Reduction::Sum {
        body.sum_packs_fn(&k)
    } else {
        quote!()
    };
    let formula = input.formula.value();
    let vars = kernel.ir.vars.iter().map(|v| {
        let (n, c, d) = (&v.name, cat_tokens(v.cat, &k), v.dim);
        quote!(#k::VarSpec { name: #n, cat: #c, dim: #d })
    });
    let reduction = reduction_tokens(kernel.reduction, &k);
    let (axis, dim, dim2, weighted) = (
        kernel.axis,
        kernel.dim(),
        kernel.dim2(),
        kernel.formula2.is_some(),
    );
    let args = arg_idents(kernel);
    let arg_list: Vec<String> = kernel
        .ir
        .vars
        .iter()
        .map(|v| format!("`{}` ({}, {})", v.name, v.cat, v.dim))
        .collect();
    let arg_doc = format!("Arguments in order: {}.", arg_list.join(", "));
    let formula_doc = format!(
        "Formula: `{formula}`, {}, axis {axis}.",
        match solve_slot {
            Some(_) => "kernel solve".to_string(),
            None => format!("reduction `{}`", kernel.reduction),
        }
    );
    let sig = quote! {
        const __KEOPS_VARS: &[#k::VarSpec<'static>] = &[#(#vars),*];
        let __keops_sig = #k::Signature {
            vars: __KEOPS_VARS,
            reduction: #reduction,
            axis: #axis,
            dim: #dim,
            dim2: #dim2,
            weighted: #weighted,
        };
    };
    let common = quote! {
        #(#attrs)*
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;

        impl<T: #k::Real> #k::TileFormula<T> for #name {
            #eval_fn
            #sum_fn
        }
    };
    let methods = match solve_slot {
        None => {
            let family = family_tokens(kernel.reduction, &k);
            let (ret, conv) = match kernel.reduction.output_kind() {
                OutputKind::Values => (quote!(#k::Array2<T>), quote!(into_values)),
                OutputKind::Indices => (quote!(#k::Array2<usize>), quote!(into_indices)),
                OutputKind::ValuesIndices => (quote!(#k::ValuesIndices<T>), quote!(into_pair)),
            };
            quote! {
                impl #name {
                    #[doc = #formula_doc]
                    #[doc = ""]
                    #[doc = #arg_doc]
                    #[allow(clippy::too_many_arguments)]
                    pub fn call<T: #k::Real>(&self, #(#args: impl #k::Input<T>),*) -> ::core::result::Result<#ret, #k::Error> {
                        self.call_with(&#k::Options::default(), #(#args),*)
                    }

                    /// As `call`, with options (back end, threads, sum scheme, accumulator, SIMD level).
                    #[allow(clippy::too_many_arguments)]
                    pub fn call_with<T: #k::Real>(&self, __keops_opts: &#k::Options<'_>, #(#args: impl #k::Input<T>),*) -> ::core::result::Result<#ret, #k::Error> {
                        #sig
                        let __keops_views = [#(#k::Input::view(&#args)),*];
                        #k::genred::<T, Self, #family>(self, &__keops_sig, &__keops_views, __keops_opts).map(|o| o.#conv())
                    }
                }
            }
        }
        Some(slot) => {
            let solver = format_ident!("__keops_{}_Solver", name);
            let solver_doc = format!("The solver builder of [`{name}`].");
            quote! {
                impl #name {
                    #[doc = #formula_doc]
                    #[doc = ""]
                    #[doc = #arg_doc]
                    #[doc = ""]
                    #[doc = "Solves `(alpha Id + K) a = b` with pykeops' conjugate gradient: `b` is passed in the solved variable's place, x0 = 0, stop when `||r||^2 < numel(b) eps^2`; capped at `min(10 N, 10 000)` iterations, non-finite input rejected."]
                    #[allow(clippy::too_many_arguments)]
                    pub fn call<T: #k::Real>(&self, #(#args: impl #k::Input<T>,)* alpha: T, eps: T) -> ::core::result::Result<#k::Array2<T>, #k::Error> {
                        #sig
                        let __keops_views = [#(#k::Input::view(&#args)),*];
                        #k::seed_solve(self, &__keops_sig, &__keops_views, #slot, alpha, eps, &#k::Options::default())
                    }

                    /// The safe solver: per-column CG with relative tolerances, an iteration cap, true residuals
                    /// and a report.
                    pub fn solver<'o, T: #k::Real>(&self) -> #solver<'o, T> {
                        #solver { cfg: #k::SolverConfig::new(), opts: #k::Options::default() }
                    }
                }

                #[doc = #solver_doc]
                #[doc(hidden)]
                #[allow(non_camel_case_types)]
                #vis struct #solver<'o, T: #k::Real> {
                    cfg: #k::SolverConfig<'o, T>,
                    opts: #k::Options<'o>,
                }

                impl<'o, T: #k::Real> #solver<'o, T> {
                    /// The ridge `alpha` (default 1e-10).
                    pub fn alpha(self, alpha: f64) -> Self { Self { cfg: self.cfg.alpha(alpha), ..self } }
                    /// Relative tolerance per column.
                    pub fn rtol(self, rtol: f64) -> Self { Self { cfg: self.cfg.rtol(rtol), ..self } }
                    /// Absolute tolerance per column.
                    pub fn atol(self, atol: f64) -> Self { Self { cfg: self.cfg.atol(atol), ..self } }
                    /// Iteration cap.
                    pub fn max_iter(self, max_iter: usize) -> Self { Self { cfg: self.cfg.max_iter(max_iter), ..self } }
                    /// Warm start.
                    pub fn x0(self, x0: #k::ArrayView2<'o, T>) -> Self { Self { cfg: self.cfg.x0(x0), ..self } }
                    /// Options of every matvec.
                    pub fn options(self, opts: &#k::Options<'o>) -> Self { Self { opts: *opts, ..self } }
                    /// Progress callback; `ControlFlow::Break(())` stops the solve.
                    pub fn callback(self, f: impl FnMut(&#k::Progress) -> ::core::ops::ControlFlow<()> + 'o) -> Self {
                        Self { cfg: self.cfg.callback(f), ..self }
                    }
                    /// Any column not converged is an error.
                    pub fn strict(self) -> Self { Self { cfg: self.cfg.strict(), ..self } }
                    /// Solves; `b` goes in the solved variable's place.
                    #[allow(clippy::too_many_arguments)]
                    pub fn solve(mut self, #(#args: impl #k::Input<T>),*) -> ::core::result::Result<#k::Solution<T>, #k::Error> {
                        #sig
                        let __keops_views = [#(#k::Input::view(&#args)),*];
                        #k::safe_solve(&#name, &__keops_sig, &__keops_views, #slot, &mut self.cfg, &self.opts)
                    }
                }
            }
        }
    };
    quote! {
        #common
        const _: () = {
            #methods
        };
    }
}

/// The expression form wraps the definitions in a block that evaluates to a value of the type.
pub fn wrap_expression(items: TokenStream) -> TokenStream {
    let name = format_ident!("__KeopsKernel", span = Span::call_site());
    quote! {{
        #items
        #name
    }}
}

/// Whether the input is the expression form (no struct name).
pub fn is_expression(input: &KeopsInput) -> bool {
    input.name.is_none()
}
