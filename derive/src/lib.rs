//! `#[derive(ZeroCopySend)]`: marks a `#[repr(C)]` struct whose fields are
//! all `ZeroCopySend` as shareable through icefloe, and gives it a stable
//! type name.
//!
//! * The struct must be `#[repr(C)]` (or `#[repr(transparent)]`); enums and
//!   unions are refused.
//! * Every field must be `ZeroCopySend`; a field that is not fails to compile
//!   at the derive.
//! * The type name is the struct's identifier (with its type parameters'
//!   names), not its crate path, so that two crates declaring the same
//!   struct interoperate. `#[icefloe(type_name = "my::Name")]` sets it;
//!   `#[icefloe(type_name_with_path)]` prefixes the module path.
//! * `#[icefloe(crate = "path")]` names the crate providing `ZeroCopySend`
//!   when it is not found through a dependency on `icefloe-core`,
//!   `icefloe-linux` or `icefloe-qnx` (a crate that depends on both
//!   platform crates, choosing one by feature, names it:
//!   `#[icefloe(crate = "crate::icefloe::icefloe_core")]`).

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{parse_macro_input, Data, DeriveInput, Fields, GenericParam, LitStr};

/// Derives `ZeroCopySend`; see the crate docs.
#[proc_macro_derive(ZeroCopySend, attributes(icefloe))]
pub fn derive_zero_copy_send(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

struct Options {
    type_name: Option<String>,
    with_path: bool,
    krate: Option<syn::Path>,
}

fn options(input: &DeriveInput) -> syn::Result<Options> {
    let mut o = Options { type_name: None, with_path: false, krate: None };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("icefloe")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("type_name") {
                o.type_name = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("type_name_with_path") {
                o.with_path = true;
                Ok(())
            } else if meta.path.is_ident("crate") {
                o.krate = Some(meta.value()?.parse::<LitStr>()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `type_name = \"..\"`, `type_name_with_path` or `crate = \"..\"`"))
            }
        })?;
    }
    if o.type_name.is_some() && o.with_path {
        return Err(syn::Error::new(input.ident.span(), "`type_name` and `type_name_with_path` exclude each other"));
    }
    Ok(o)
}

fn has_stable_repr(input: &DeriveInput) -> syn::Result<bool> {
    let mut ok = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("C") || meta.path.is_ident("transparent") {
                ok = true;
            }
            // align(N) / packed(N) carry a value; accept and skip it.
            if meta.input.peek(syn::token::Paren) {
                let content;
                syn::parenthesized!(content in meta.input);
                let _: TokenStream2 = content.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(ok)
}

fn crate_path(o: &Options) -> TokenStream2 {
    use proc_macro_crate::{crate_name, FoundCrate};
    if let Some(p) = &o.krate {
        return quote!(#p);
    }
    match crate_name("icefloe-core") {
        Ok(FoundCrate::Itself) => return quote!(crate),
        Ok(FoundCrate::Name(n)) => {
            let id = syn::Ident::new(&n, proc_macro2::Span::call_site());
            return quote!(::#id);
        }
        Err(_) => {}
    }
    // A platform crate re-exports the core (listing both, as a crate that
    // picks its platform by feature does, needs `crate = ".."`).
    for platform in ["icefloe-linux", "icefloe-qnx"] {
        if let Ok(FoundCrate::Name(n)) = crate_name(platform) {
            let id = syn::Ident::new(&n, proc_macro2::Span::call_site());
            return quote!(::#id::icefloe_core);
        }
    }
    quote!(::icefloe_core)
}

fn expand(input: DeriveInput) -> syn::Result<TokenStream2> {
    let o = options(&input)?;
    let fields = match &input.data {
        Data::Struct(s) => &s.fields,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span(),
                "ZeroCopySend cannot be derived for enums: a receiver could read an invalid discriminant",
            ))
        }
        Data::Union(u) => {
            return Err(syn::Error::new(u.union_token.span(), "ZeroCopySend cannot be derived for unions"))
        }
    };
    if !has_stable_repr(&input)? {
        return Err(syn::Error::new(
            input.ident.span(),
            "ZeroCopySend needs a fixed layout: add #[repr(C)] (or #[repr(transparent)])",
        ));
    }
    let krate = crate_path(&o);
    let ident = &input.ident;
    let mut generics = input.generics.clone();
    for p in generics.params.iter_mut() {
        if let GenericParam::Type(t) = p {
            t.bounds.push(syn::parse_quote!(#krate::ZeroCopySend));
        }
        if let GenericParam::Lifetime(l) = p {
            return Err(syn::Error::new(l.span(), "ZeroCopySend types cannot hold references (lifetime parameters)"));
        }
    }
    let (impl_g, ty_g, where_c) = generics.split_for_impl();

    let field_types: Vec<_> = match fields {
        Fields::Named(f) => f.named.iter().map(|f| &f.ty).collect(),
        Fields::Unnamed(f) => f.unnamed.iter().map(|f| &f.ty).collect(),
        Fields::Unit => Vec::new(),
    };
    let assertions = field_types.iter().map(|ty| {
        quote_spanned! {ty.span()=> __icefloe_assert_zero_copy_send::<#ty>(); }
    });

    let base = o.type_name.clone().unwrap_or_else(|| ident.to_string());
    let write_base = if o.with_path {
        quote! { w.write_str(::core::module_path!())?; w.write_str("::")?; w.write_str(#base)?; }
    } else {
        quote! { w.write_str(#base)?; }
    };
    let params: Vec<_> = input
        .generics
        .params
        .iter()
        .filter_map(|p| match p {
            GenericParam::Type(t) => {
                let id = &t.ident;
                Some(quote! { <#id as #krate::ZeroCopySend>::write_type_name(w)?; })
            }
            GenericParam::Const(c) => {
                let id = &c.ident;
                Some(quote! { ::core::write!(w, "{}", #id)?; })
            }
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let write_params = if params.is_empty() || o.type_name.is_some() {
        quote! {}
    } else {
        let mut parts = Vec::new();
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                parts.push(quote! { w.write_str(", ")?; });
            }
            parts.push(p.clone());
        }
        quote! { w.write_str("<")?; #(#parts)* w.write_str(">")?; }
    };

    Ok(quote! {
        // SAFETY: the struct is #[repr(C)] (checked by the derive) and every
        // field is ZeroCopySend (checked by the assertions below).
        unsafe impl #impl_g #krate::ZeroCopySend for #ident #ty_g #where_c {
            fn write_type_name(w: &mut dyn ::core::fmt::Write) -> ::core::fmt::Result {
                #[allow(dead_code)]
                fn __icefloe_assert_zero_copy_send<T: #krate::ZeroCopySend>() {}
                #(#assertions)*
                #write_base
                #write_params
                Ok(())
            }
        }
    })
}
