//! Every route as a row of one table (both generations), the typed operations on them, and
//! how each decodes its 2xx body.

use crate::model::{SessionInfo, SessionLoginResponse};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Where and how an operation is sent: the untyped half of an [`Endpoint`] row, made from
/// its [`RouteId`] row in the table below.
#[derive(Debug)]
pub(crate) struct Route {
    /// The operation's name in logs and errors.
    pub(crate) name: &'static str,
    pub(crate) method: Method,
    /// The path below the base URL, without a leading slash.
    pub(crate) path: &'static str,
    /// Whether the `Authorization: Bearer` token is sent (the specification's security).
    pub(crate) sends_token: bool,
    /// Whether the call starts a session (login): its cookies are kept even when a logout
    /// ended the session while it was in flight.
    pub(crate) starts_session: bool,
    /// Whether each call mints a token: such a call is sent again only when it never left
    /// (a connect error), whatever the retry policy's methods, since a second token nobody
    /// sees could never be revoked.
    pub(crate) mints: bool,
    /// Index into the client's prebuilt URLs: the route's place in [`RouteId`].
    pub(crate) index: usize,
}

/// The table of routes: one row per route, from which the [`RouteId`] enum, each
/// [`Route`] and the list [`ALL`] are made. Adding a route is adding a row.
macro_rules! routes {
    ($(
        $(#[$doc:meta])*
        $id:ident: $name:literal, $method:ident $path:literal, token: $token:literal, session: $session:literal, mints: $mints:literal;
    )*) => {
        /// Every route of both generations, in the table's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum RouteId {
            $($(#[$doc])* $id,)*
        }

        impl RouteId {
            /// The route's row.
            pub(crate) const fn route(self) -> Route {
                match self {
                    $(RouteId::$id => Route {
                        name: $name,
                        method: Method::$method,
                        path: $path,
                        sends_token: $token,
                        starts_session: $session,
                        mints: $mints,
                        index: RouteId::$id as usize,
                    },)*
                }
            }
        }

        /// Every route, in [`RouteId`] order.
        pub(crate) static ALL: [Route; [$(RouteId::$id),*].len()] = [$(RouteId::$id.route()),*];
    };
}

// The beta (`tspublic/rest/v2/session/...`), then REST API v2.0 (`api/rest/2.0/auth/...`).
// The bearer token goes on every operation the spec secures (bearerAuth, login included)
// and never on logout (beta), get token, token/full, token/object, token/custom.
routes! {
    /// Beta: get session info.
    SessionInfo: "get session info", GET "tspublic/rest/v2/session", token: true, session: false, mints: false;
    /// Beta: login.
    Login: "login", POST "tspublic/rest/v2/session/login", token: true, session: true, mints: false;
    /// Beta: logout.
    Logout: "logout", POST "tspublic/rest/v2/session/logout", token: false, session: false, mints: false;
    /// Beta: get token.
    GetToken: "get token", POST "tspublic/rest/v2/session/gettoken", token: false, session: false, mints: true;
    /// Beta: revoke token.
    RevokeToken: "revoke token", POST "tspublic/rest/v2/session/revoketoken", token: true, session: false, mints: false;
    /// v2.0: the calling session's user.
    V2SessionUser: "session/user", GET "api/rest/2.0/auth/session/user", token: true, session: false, mints: false;
    /// v2.0: a token of the calling session.
    V2SessionToken: "session/token", GET "api/rest/2.0/auth/session/token", token: true, session: false, mints: true;
    /// v2.0: a full-access token.
    V2TokenFull: "token/full", POST "api/rest/2.0/auth/token/full", token: false, session: false, mints: true;
    /// v2.0: login.
    V2Login: "login", POST "api/rest/2.0/auth/session/login", token: true, session: true, mints: false;
    /// v2.0: logout.
    V2Logout: "logout", POST "api/rest/2.0/auth/session/logout", token: true, session: false, mints: false;
    /// v2.0: a token for one object.
    V2TokenObject: "token/object", POST "api/rest/2.0/auth/token/object", token: false, session: false, mints: true;
    /// v2.0: a token with row-level rules.
    V2TokenCustom: "token/custom", POST "api/rest/2.0/auth/token/custom", token: false, session: false, mints: true;
    /// v2.0: revoke a token.
    V2Revoke: "token/revoke", POST "api/rest/2.0/auth/token/revoke", token: true, session: false, mints: false;
    /// v2.0: validate a token.
    V2Validate: "token/validate", POST "api/rest/2.0/auth/token/validate", token: true, session: false, mints: false;
    /// v2.0: configure trusted authentication.
    V2Configure: "configure", POST "api/rest/2.0/auth/configure", token: true, session: false, mints: false;
    /// v2.0: read the trusted-authentication settings.
    V2Search: "search", POST "api/rest/2.0/auth/search", token: true, session: false, mints: false;
}

/// One operation of the Session API, as a row of the table: everything that differs
/// between operations is data, down to how its answer decodes into `O`.
pub(crate) struct Endpoint<O> {
    pub(crate) route: Route,
    pub(crate) decode: Decoder<O>,
}

pub(crate) static GET_SESSION_INFO: Endpoint<SessionInfo> = Endpoint {
    route: RouteId::SessionInfo.route(),
    decode: json::<SessionInfo>,
};
pub(crate) static LOGIN: Endpoint<SessionLoginResponse> = Endpoint {
    route: RouteId::Login.route(),
    decode: json::<SessionLoginResponse>,
};
pub(crate) static LOGOUT: Endpoint<bool> = Endpoint {
    route: RouteId::Logout.route(),
    decode: boolean,
};
pub(crate) static GET_TOKEN: Endpoint<SessionLoginResponse> = Endpoint {
    route: RouteId::GetToken.route(),
    decode: json::<SessionLoginResponse>,
};
pub(crate) static REVOKE_TOKEN: Endpoint<bool> = Endpoint {
    route: RouteId::RevokeToken.route(),
    decode: boolean,
};

/// Rows of REST API v2.0, typed by what each answers.
pub(crate) mod v2 {
    use super::*;
    use crate::v2::{AuthSettings, CustomAccessToken, GetTokenResponse, Token, TokenValidation, User};

    pub(crate) static GET_USER: Endpoint<User> = Endpoint {
        route: RouteId::V2SessionUser.route(),
        decode: json::<User>,
    };
    /// get session info under v2.0: the same path, read as the generation-neutral object.
    pub(crate) static GET_SESSION_INFO: Endpoint<SessionInfo> = Endpoint {
        route: RouteId::V2SessionUser.route(),
        decode: json::<SessionInfo>,
    };
    pub(crate) static GET_SESSION_TOKEN: Endpoint<GetTokenResponse> = Endpoint {
        route: RouteId::V2SessionToken.route(),
        decode: json::<GetTokenResponse>,
    };
    pub(crate) static POST_LOGIN: Endpoint<()> = Endpoint {
        route: RouteId::V2Login.route(),
        decode: done,
    };
    pub(crate) static POST_LOGOUT: Endpoint<bool> = Endpoint {
        route: RouteId::V2Logout.route(),
        decode: done_true,
    };
    pub(crate) static GET_FULL_TOKEN: Endpoint<Token> = Endpoint {
        route: RouteId::V2TokenFull.route(),
        decode: json::<Token>,
    };
    pub(crate) static GET_OBJECT_TOKEN: Endpoint<Token> = Endpoint {
        route: RouteId::V2TokenObject.route(),
        decode: json::<Token>,
    };
    pub(crate) static GET_CUSTOM_TOKEN: Endpoint<CustomAccessToken> = Endpoint {
        route: RouteId::V2TokenCustom.route(),
        decode: json::<CustomAccessToken>,
    };
    pub(crate) static POST_REVOKE: Endpoint<bool> = Endpoint {
        route: RouteId::V2Revoke.route(),
        decode: done_true,
    };
    pub(crate) static POST_VALIDATE: Endpoint<TokenValidation> = Endpoint {
        route: RouteId::V2Validate.route(),
        decode: json::<TokenValidation>,
    };
    pub(crate) static POST_CONFIGURE: Endpoint<()> = Endpoint {
        route: RouteId::V2Configure.route(),
        decode: done,
    };
    pub(crate) static POST_SEARCH: Endpoint<AuthSettings> = Endpoint {
        route: RouteId::V2Search.route(),
        decode: json::<AuthSettings>,
    };
}

/// A 2xx with no result to read (REST API v2.0 answers 204): done, whatever the body.
pub(crate) fn done(_: StatusCode, _: &[u8]) -> Result<(), DecodeProblem> {
    Ok(())
}

/// A 2xx with no result to read, as the `true` of the generation-neutral operations.
pub(crate) fn done_true(_: StatusCode, _: &[u8]) -> Result<bool, DecodeProblem> {
    Ok(true)
}

/// Why a 2xx body did not decode, in words that quote nothing from the body.
#[derive(Debug)]
pub(crate) struct DecodeProblem {
    pub(crate) expected: &'static str,
    pub(crate) problem: Cow<'static, str>,
}

/// Turns a 2xx status and body into an operation's result.
pub(crate) type Decoder<O> = fn(StatusCode, &[u8]) -> Result<O, DecodeProblem>;

/// Decodes a JSON object body into `O`. serde's own message is not kept: it can quote
/// values. Only an object is an answer: serde would read a struct from an array too.
pub(crate) fn json<O: DeserializeOwned>(_: StatusCode, body: &[u8]) -> Result<O, DecodeProblem> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if let Some(&b) = first
        && b != b'{'
    {
        let got = match b {
            b'[' => "got a JSON array",
            b'"' => "got a JSON string",
            b'n' => "got JSON null",
            b't' | b'f' => "got a JSON boolean",
            b'-' | b'0'..=b'9' => "got a JSON number",
            _ => "malformed JSON",
        };
        return Err(DecodeProblem {
            expected: "a JSON object",
            problem: got.into(),
        });
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        let what = match e.classify() {
            Category::Eof if body.iter().all(u8::is_ascii_whitespace) => {
                return DecodeProblem {
                    expected: "a JSON object",
                    problem: "the body is empty".into(),
                };
            }
            Category::Eof => "the JSON ends early",
            Category::Syntax | Category::Io => "malformed JSON",
            Category::Data => "JSON of the wrong shape",
        };
        DecodeProblem {
            expected: "a JSON object",
            problem: format!("{what} at line {} column {}", e.line(), e.column()).into(),
        }
    })
}

/// Decodes `true` / `false`, also as the strings `"true"` / `"false"`. A 204 No Content
/// is `true`: REST API v2.0 answers logout and revoke so, and some proxies turn a 200 into
/// a 204.
pub(crate) fn boolean(status: StatusCode, body: &[u8]) -> Result<bool, DecodeProblem> {
    let problem = |p: &'static str| DecodeProblem {
        expected: "a JSON boolean",
        problem: p.into(),
    };
    if status == StatusCode::NO_CONTENT {
        return Ok(true);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(problem("the body is empty"));
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Bool(b)) => Ok(b),
        Ok(serde_json::Value::String(s)) if s == "true" => Ok(true),
        Ok(serde_json::Value::String(s)) if s == "false" => Ok(false),
        Ok(serde_json::Value::String(_)) => {
            Err(problem("got a JSON string other than \"true\" or \"false\""))
        }
        Ok(serde_json::Value::Null) => Err(problem("got JSON null")),
        Ok(serde_json::Value::Number(_)) => Err(problem("got a JSON number")),
        Ok(serde_json::Value::Array(_)) => Err(problem("got a JSON array")),
        Ok(serde_json::Value::Object(_)) => Err(problem("got a JSON object")),
        Err(_) => Err(problem("malformed JSON")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_json_and_string_forms_only() {
        let ok = StatusCode::OK;
        assert!(boolean(ok, b"true").expect("decodes"));
        assert!(!boolean(ok, b" false\n").expect("decodes"));
        assert!(boolean(ok, br#""true""#).expect("decodes"));
        assert!(!boolean(ok, br#""false""#).expect("decodes"));
        assert!(boolean(StatusCode::NO_CONTENT, b"").expect("204 is success"));
        for bad in [
            &b""[..],
            b"  ",
            b"1",
            b"null",
            b"\"yes\"",
            b"{}",
            b"tru",
            b"<html>",
        ] {
            assert!(boolean(ok, bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn only_an_object_is_an_answer() {
        use crate::model::SessionLoginResponse;
        let ok = StatusCode::OK;
        for (body, problem) in [
            (&b"[]"[..], "got a JSON array"),
            (br#" ["a","TOK"]"#, "got a JSON array"),
            (b"\"x\"", "got a JSON string"),
            (b"null", "got JSON null"),
            (b"7", "got a JSON number"),
        ] {
            let e = json::<SessionLoginResponse>(ok, body).expect_err("not an object");
            assert_eq!((e.expected, e.problem.as_ref()), ("a JSON object", problem));
        }
        assert!(json::<SessionLoginResponse>(ok, br#" {"token":"t"}"#).is_ok());
    }

    #[test]
    fn endpoint_rows_follow_the_specification() {
        let sends: Vec<_> = ALL.iter().filter(|e| !e.sends_token).map(|e| e.name).collect();
        assert_eq!(
            sends,
            [
                "logout",
                "get token",
                "token/full",
                "token/object",
                "token/custom"
            ]
        );
        let starts: Vec<_> = ALL.iter().filter(|e| e.starts_session).map(|e| e.name).collect();
        assert_eq!(starts, ["login", "login"]);
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(e.index, i);
        }
    }
}
