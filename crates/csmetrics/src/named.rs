//! Options named by a word (`"snapshot"`, `"sequential"`): one macro declares the enum, its
//! names and its parsing, so an option's spelling lives in one place.

/// Declares an option enum: `Name, "option", Variant = "text", ...` (the `#[default]` variant
/// marked), with `name()` giving the text and `FromStr` parsing it (an unknown text is an
/// [`InvalidOption`](crate::error::CsError::InvalidOption) error naming the option and listing the
/// accepted texts).
macro_rules! named_options {
    ($(#[$doc:meta])* $name:ident, $option:literal, $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The option's name in outputs and errors.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::CsError;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => {
                        let names: &[&str] = &[$($text),+];
                        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
                        Err($crate::error::CsError::option(
                            $option,
                            format!("'{other}'"),
                            &format!("expected one of {}", quoted.join(", ")),
                        ))
                    }
                }
            }
        }
    };
}
