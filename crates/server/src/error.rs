//! One error type for the crate, and its JSON face on the HTTP API.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use groundrec::GroundrecError;

/// Everything the store, the service and the command line can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A store URL that names no supported database.
    #[error("store URL {url:?}: {reason}")]
    StoreUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database answered with an error, or could not be reached.
    #[error("store: {0}")]
    Store(#[from] sqlx::Error),
    /// The schema migrations failed.
    #[error("store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The pipeline (fitting, loading, scoring, catalogue changes) failed.
    #[error(transparent)]
    Pipeline(#[from] GroundrecError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A row of an input file is wrong.
    #[error("{path}{}: {reason}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Input {
        /// The file.
        path: String,
        /// 1-based line number, when one line is at fault.
        line: Option<usize>,
        /// What is wrong with it.
        reason: String,
    },
    /// A request the API refuses, with its HTTP status and a stable code.
    #[error("{message}")]
    Api {
        /// HTTP status (4xx for the caller's mistakes).
        status: StatusCode,
        /// Stable machine-readable code, e.g. `unknown_item`.
        code: &'static str,
        /// What was wrong, for people.
        message: String,
    },
    /// Something the service could not do for reasons of its own (a worker died, ...).
    #[error("internal: {0}")]
    Internal(String),
}

/// `Result` with [`ServerError`].
pub type Result<T, E = ServerError> = std::result::Result<T, E>;

impl ServerError {
    /// A 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::Api {
            status: StatusCode::BAD_REQUEST,
            code,
            message: message.into(),
        }
    }

    /// A 422 (well-formed JSON, values the service cannot take) with `code`.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::Api {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            message: message.into(),
        }
    }

    /// A 404 with `code`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::Api {
            status: StatusCode::NOT_FOUND,
            code,
            message: message.into(),
        }
    }

    /// A [`ServerError::Io`] naming `path`.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    /// HTTP status and stable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        use GroundrecError as G;
        match self {
            Self::Api { status, code, .. } => (*status, code),
            Self::Pipeline(e) => match e {
                G::UnknownItem(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_item"),
                G::UnknownFilter { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_filter"),
                G::ZeroLength => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_n"),
                G::DuplicateItem(_) => (StatusCode::UNPROCESSABLE_ENTITY, "duplicate_item"),
                G::InvalidItem { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_item"),
                G::InvalidParam { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_param"),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, "pipeline"),
            },
            Self::Store(sqlx::Error::PoolTimedOut) => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            Self::Store(_) | Self::Migrate(_) => (StatusCode::SERVICE_UNAVAILABLE, "store"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "error": { "code": code, "message": self.to_string() } });
        (status, Json(body)).into_response()
    }
}
