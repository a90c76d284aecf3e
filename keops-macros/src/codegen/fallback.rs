//! What to emit when the input is wrong: the errors, plus the struct and stub methods of the right arity
//! when the name is known, so use sites do not add errors of their own.

use keops_ir::OutputKind;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::input::{KeopsInput, Mode};

/// The errors and, when possible, a stand-in type with the same methods.
pub fn fallback(err: syn::Error, input: Option<&KeopsInput>) -> TokenStream {
    let errors = err.to_compile_error();
    let Some(input) = input else {
        return errors;
    };
    let Some(name) = &input.name else {
        return quote!({ #errors });
    };
    let (vis, attrs) = (&input.vis, &input.attrs);
    let krate = &input.krate;
    let k = quote!(#krate::__private);
    let args: Vec<_> = (0..input.aliases.len())
        .map(|i| format_ident!("__keops_arg{}", i))
        .collect();
    let body = quote!(unreachable!("the `keops!` definition did not compile"));
    let stubs = match input.mode {
        Mode::Reduce(r) => {
            let ret = match r.output_kind() {
                OutputKind::Values => quote!(#k::Array2<T>),
                OutputKind::Indices => quote!(#k::Array2<usize>),
                OutputKind::ValuesIndices => quote!(#k::ValuesIndices<T>),
            };
            quote! {
                /// Not available: the definition has errors.
                pub fn call<T: #k::Real>(&self, #(#args: impl #k::Input<T>),*) -> ::core::result::Result<#ret, #k::Error> { #body }
                /// Not available: the definition has errors.
                pub fn call_with<T: #k::Real>(&self, _: &#k::Options<'_>, #(#args: impl #k::Input<T>),*) -> ::core::result::Result<#ret, #k::Error> { #body }
            }
        }
        Mode::Solve(_) => quote! {
            /// Not available: the definition has errors.
            pub fn call<T: #k::Real>(&self, #(#args: impl #k::Input<T>,)* _alpha: T, _eps: T) -> ::core::result::Result<#k::Array2<T>, #k::Error> { #body }
        },
    };
    quote! {
        #errors
        #(#attrs)*
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;
        #[allow(unused_variables, clippy::too_many_arguments)]
        impl #name {
            #stubs
        }
    }
}
