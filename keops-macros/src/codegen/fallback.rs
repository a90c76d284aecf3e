//! What to emit when the input is wrong: the errors, plus the struct and stub methods when the name is
//! known, so use sites do not add errors of their own.

use proc_macro2::TokenStream;
use quote::quote;

use crate::input::{KeopsInput, Mode};

/// The errors and, when possible, a stand-in type with the same method names.
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
    let stubs = match input.mode {
        Mode::Reduce(..) => quote! {
            /// Not available: the definition has errors.
            pub fn call<T: #k::Real, A>(&self, _args: A) -> ::core::result::Result<#k::Array2<T>, #k::Error> {
                unreachable!("the `keops!` definition did not compile")
            }
        },
        Mode::Solve(_) => quote! {
            /// Not available: the definition has errors.
            pub fn call<T: #k::Real, A>(&self, _args: A) -> ::core::result::Result<#k::Array2<T>, #k::Error> {
                unreachable!("the `keops!` definition did not compile")
            }
        },
    };
    quote! {
        #errors
        #(#attrs)*
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #name;
        impl #name {
            #stubs
        }
    }
}
