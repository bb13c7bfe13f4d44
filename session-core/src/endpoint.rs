//! The five operations as rows of a table, and how each decodes its 2xx body.

use crate::model::{SessionInfo, SessionLoginResponse};
use http::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::borrow::Cow;

/// Where and how an operation is sent: the untyped half of an [`Endpoint`] row.
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
    /// Index into the client's prebuilt URLs.
    pub(crate) index: usize,
}

/// One operation of the Session API, as a row of the table: everything that differs
/// between operations is data, down to how its answer decodes into `O`.
pub(crate) struct Endpoint<O> {
    pub(crate) route: Route,
    pub(crate) decode: Decoder<O>,
}

pub(crate) const GET_SESSION_INFO: Endpoint<SessionInfo> = Endpoint {
    route: Route {
        name: "get session info",
        method: Method::GET,
        path: "tspublic/rest/v2/session",
        sends_token: true,
        starts_session: false,
        index: 0,
    },
    decode: json::<SessionInfo>,
};
pub(crate) const LOGIN: Endpoint<SessionLoginResponse> = Endpoint {
    route: Route {
        name: "login",
        method: Method::POST,
        path: "tspublic/rest/v2/session/login",
        sends_token: true,
        starts_session: true,
        index: 1,
    },
    decode: json::<SessionLoginResponse>,
};
pub(crate) const LOGOUT: Endpoint<bool> = Endpoint {
    route: Route {
        name: "logout",
        method: Method::POST,
        path: "tspublic/rest/v2/session/logout",
        sends_token: false,
        starts_session: false,
        index: 2,
    },
    decode: boolean,
};
pub(crate) const GET_TOKEN: Endpoint<SessionLoginResponse> = Endpoint {
    route: Route {
        name: "get token",
        method: Method::POST,
        path: "tspublic/rest/v2/session/gettoken",
        sends_token: false,
        starts_session: false,
        index: 3,
    },
    decode: json::<SessionLoginResponse>,
};
pub(crate) const REVOKE_TOKEN: Endpoint<bool> = Endpoint {
    route: Route {
        name: "revoke token",
        method: Method::POST,
        path: "tspublic/rest/v2/session/revoketoken",
        sends_token: true,
        starts_session: false,
        index: 4,
    },
    decode: boolean,
};

/// A REST API v2.0 route: every one of them lives under `api/rest/2.0/auth/`.
const fn v2(
    name: &'static str,
    method: Method,
    path: &'static str,
    sends_token: bool,
    index: usize,
) -> Route {
    Route {
        name,
        method,
        path,
        sends_token,
        starts_session: index == V2_LOGIN_INDEX,
        index,
    }
}

const V2_LOGIN_INDEX: usize = 8;

/// Rows of REST API v2.0. The bearer token goes on every operation the spec secures
/// (bearerAuth, login included) and never on token/full, token/object, token/custom.
pub(crate) mod v2 {
    use super::*;
    use crate::v2::{AuthSettings, CustomAccessToken, GetTokenResponse, Token, TokenValidation, User};

    pub(crate) const SESSION_USER: Route = v2(
        "session/user",
        Method::GET,
        "api/rest/2.0/auth/session/user",
        true,
        5,
    );
    pub(crate) const SESSION_TOKEN: Route = v2(
        "session/token",
        Method::GET,
        "api/rest/2.0/auth/session/token",
        true,
        6,
    );
    pub(crate) const TOKEN_FULL: Route = v2(
        "token/full",
        Method::POST,
        "api/rest/2.0/auth/token/full",
        false,
        7,
    );
    pub(crate) const LOGIN: Route = v2(
        "login",
        Method::POST,
        "api/rest/2.0/auth/session/login",
        true,
        V2_LOGIN_INDEX,
    );
    pub(crate) const LOGOUT: Route = v2(
        "logout",
        Method::POST,
        "api/rest/2.0/auth/session/logout",
        true,
        9,
    );
    pub(crate) const TOKEN_OBJECT: Route = v2(
        "token/object",
        Method::POST,
        "api/rest/2.0/auth/token/object",
        false,
        10,
    );
    pub(crate) const TOKEN_CUSTOM: Route = v2(
        "token/custom",
        Method::POST,
        "api/rest/2.0/auth/token/custom",
        false,
        11,
    );
    pub(crate) const REVOKE: Route = v2(
        "token/revoke",
        Method::POST,
        "api/rest/2.0/auth/token/revoke",
        true,
        12,
    );
    pub(crate) const VALIDATE: Route = v2(
        "token/validate",
        Method::POST,
        "api/rest/2.0/auth/token/validate",
        true,
        13,
    );
    pub(crate) const CONFIGURE: Route =
        v2("configure", Method::POST, "api/rest/2.0/auth/configure", true, 14);
    pub(crate) const SEARCH: Route = v2("search", Method::POST, "api/rest/2.0/auth/search", true, 15);

    pub(crate) static GET_USER: Endpoint<User> = Endpoint {
        route: SESSION_USER,
        decode: json::<User>,
    };
    /// get session info under v2.0: the same path, read as the generation-neutral object.
    pub(crate) static GET_SESSION_INFO: Endpoint<SessionInfo> = Endpoint {
        route: SESSION_USER,
        decode: json::<SessionInfo>,
    };
    pub(crate) static GET_SESSION_TOKEN: Endpoint<GetTokenResponse> = Endpoint {
        route: SESSION_TOKEN,
        decode: json::<GetTokenResponse>,
    };
    pub(crate) static POST_LOGIN: Endpoint<()> = Endpoint {
        route: LOGIN,
        decode: done,
    };
    pub(crate) static POST_LOGOUT: Endpoint<bool> = Endpoint {
        route: LOGOUT,
        decode: done_true,
    };
    pub(crate) static GET_FULL_TOKEN: Endpoint<Token> = Endpoint {
        route: TOKEN_FULL,
        decode: json::<Token>,
    };
    pub(crate) static GET_OBJECT_TOKEN: Endpoint<Token> = Endpoint {
        route: TOKEN_OBJECT,
        decode: json::<Token>,
    };
    pub(crate) static GET_CUSTOM_TOKEN: Endpoint<CustomAccessToken> = Endpoint {
        route: TOKEN_CUSTOM,
        decode: json::<CustomAccessToken>,
    };
    pub(crate) static POST_REVOKE: Endpoint<bool> = Endpoint {
        route: REVOKE,
        decode: done_true,
    };
    pub(crate) static POST_VALIDATE: Endpoint<TokenValidation> = Endpoint {
        route: VALIDATE,
        decode: json::<TokenValidation>,
    };
    pub(crate) static POST_CONFIGURE: Endpoint<()> = Endpoint {
        route: CONFIGURE,
        decode: done,
    };
    pub(crate) static POST_SEARCH: Endpoint<AuthSettings> = Endpoint {
        route: SEARCH,
        decode: json::<AuthSettings>,
    };
}

/// Every route, in index order.
pub(crate) static ALL: [&Route; 16] = [
    &GET_SESSION_INFO.route,
    &LOGIN.route,
    &LOGOUT.route,
    &GET_TOKEN.route,
    &REVOKE_TOKEN.route,
    &v2::GET_USER.route,
    &v2::GET_SESSION_TOKEN.route,
    &v2::GET_FULL_TOKEN.route,
    &v2::POST_LOGIN.route,
    &v2::POST_LOGOUT.route,
    &v2::GET_OBJECT_TOKEN.route,
    &v2::GET_CUSTOM_TOKEN.route,
    &v2::POST_REVOKE.route,
    &v2::POST_VALIDATE.route,
    &v2::POST_CONFIGURE.route,
    &v2::POST_SEARCH.route,
];

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
