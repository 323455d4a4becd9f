//! What the relying party reads of the provider's answers: the token response, the ID token's
//! claims and the UserInfo answer, with `email_verified`'s two spellings.

use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) id_token: Option<String>,
    /// For the UserInfo endpoint only; never stored or logged. Read leniently: an answer whose
    /// ID token is good is not refused for an access token of another shape (it is then unused).
    #[serde(default)]
    pub(crate) access_token: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(crate) struct Claims {
    pub(crate) sub: String,
    #[serde(default)]
    pub(crate) azp: Option<String>,
    /// One string or a list (the library checked ours is in it).
    #[serde(default)]
    pub(crate) aud: serde_json::Value,
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) email_verified: Flag,
    /// Microsoft Entra ID's optional claim: the address's domain owner verified it (Entra writes
    /// no `email_verified`; without this claim its addresses read as unverified).
    #[serde(default)]
    pub(crate) xms_edov: Flag,
    /// Google's hosted domain: the Workspace domain the account belongs to.
    #[serde(default)]
    pub(crate) hd: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) picture: Option<String>,
    pub(crate) nonce: Option<String>,
}

/// What the UserInfo endpoint answers that the sign-in reads (Core §5.3.2).
#[derive(Deserialize)]
pub(crate) struct UserInfo {
    pub(crate) sub: String,
    pub(crate) email: Option<String>,
    #[serde(default)]
    pub(crate) email_verified: Flag,
    #[serde(default)]
    pub(crate) xms_edov: Flag,
    #[serde(default)]
    pub(crate) hd: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) picture: Option<String>,
}

/// `email_verified`: a boolean, or the strings `"true"`/`"false"` (Google's documented ID-token
/// example has `"email_verified": "true"`); absent reads as not verified. Anything else makes the
/// token unreadable, hence invalid.
#[derive(Default)]
pub(crate) struct Flag(pub(crate) bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("true or false, as a boolean or a string")
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Flag, E> {
                match v {
                    "true" => Ok(Flag(true)),
                    "false" => Ok(Flag(false)),
                    other => Err(E::invalid_value(serde::de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(email_verified: serde_json::Value) -> Result<Claims, serde_json::Error> {
        let mut c = serde_json::json!({ "sub": "1", "email": "ana@example.com" });
        if !email_verified.is_null() {
            c["email_verified"] = email_verified;
        }
        serde_json::from_value(c)
    }

    #[test]
    fn email_verified_reads_as_a_boolean_or_the_strings_google_writes() {
        use serde_json::json;
        for (value, verified) in
            [(json!(true), true), (json!(false), false), (json!("true"), true), (json!("false"), false)]
        {
            assert_eq!(claims(value.clone()).map(|c| c.email_verified.0).ok(), Some(verified), "{value}");
        }
        assert_eq!(claims(serde_json::Value::Null).map(|c| c.email_verified.0).ok(), Some(false), "absent");
    }

    #[test]
    fn any_other_email_verified_makes_the_claims_unreadable() {
        use serde_json::json;
        for value in
            [json!("True"), json!("yes"), json!("1"), json!(""), json!(" true"), json!(1), json!([true]), json!({})]
        {
            assert!(claims(value.clone()).is_err(), "{value}");
        }
        let explicit_null: Result<Claims, _> =
            serde_json::from_str(r#"{"sub":"1","email":"ana@example.com","email_verified":null}"#);
        assert!(explicit_null.is_err());
    }

    /// Google's documented ID-token payload (`email_verified` a string, `iss` without https).
    #[test]
    fn googles_documented_example_reads() {
        let c: Claims = serde_json::from_str(
            r#"{"iss":"accounts.google.com","azp":"1234987819200.apps.googleusercontent.com",
                "aud":"1234987819200.apps.googleusercontent.com","sub":"10769150350006150715113082367",
                "at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q","hd":"example.com","email":"jsmith@example.com",
                "email_verified":"true","iat":1353601026,"exp":1353604926,"nonce":"0394852-3190485-2490358"}"#,
        )
        .expect("Google's example");
        assert!(c.email_verified.0);
        assert_eq!(c.nonce.as_deref(), Some("0394852-3190485-2490358"));
    }
}
