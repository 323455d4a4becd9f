//! How a failed DynamoDB call is reported: `Unavailable` when trying again may pass (throttling,
//! a 5xx, a timeout, a broken connection, a transaction conflict), a failed condition as the
//! guard it names, anything else `Backend`.

use aws_sdk_dynamodb::{
    config::http::HttpResponse,
    error::{ProvideErrorMetadata, SdkError},
};
use vivid_domain::error::{Guard, StoreError};

/// Error codes that mean "not now" rather than "not this": the SDK's throttling and transient
/// codes, DynamoDB's own, and the 5xx codes of the services' error shapes.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "LimitExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// The reasons of a cancelled transaction's items that mean "not now": another transaction held
/// an item, or the table was throttled. Trying again may pass.
pub(crate) const RETRYABLE_REASONS: &[&str] =
    &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// Whether a failed call may pass when tried again later: a throttled call, a 5xx, a timeout, a
/// connection that failed or broke off (after the SDK's own retries), or an answer cut short.
/// Everything else (a refused request, a failed condition, a construction error) is not.
pub(crate) fn is_unavailable<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => !f.is_user(),
        SdkError::ServiceError(s) => {
            let status = s.raw().status();
            status.is_server_error()
                || status.as_u16() == 429
                || s.err().code().is_some_and(|code| RETRYABLE_CODES.contains(&code))
        }
        _ => false,
    }
}

/// A failed SDK call as the store reports it: `Unavailable` when trying again may pass,
/// `Backend` otherwise.
pub(crate) fn sdk<E>(e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_unavailable(&e) { StoreError::unavailable(e) } else { StoreError::backend(e) }
}

/// Any failure of the table's adapter as the store reports it. The `.map_err(backend)` of every
/// call site comes here whatever it maps (an SDK call's error, a builder's, a codec's), so a
/// DynamoDB call's error is recognised by its type: see [`sdk`].
pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> StoreError {
    if sdk_call_unavailable(&e) { StoreError::unavailable(e) } else { StoreError::backend(e) }
}

/// Whether `e` is the error of a DynamoDB operation the adapter calls and says "not now".
fn sdk_call_unavailable(e: &dyn std::any::Any) -> bool {
    use aws_sdk_dynamodb::operation as op;
    macro_rules! calls {
        ($($module:ident :: $error:ident),* $(,)?) => {
            $(
                if let Some(e) = e.downcast_ref::<SdkError<op::$module::$error, HttpResponse>>() {
                    return is_unavailable(e);
                }
            )*
        };
    }
    calls!(
        get_item::GetItemError,
        put_item::PutItemError,
        update_item::UpdateItemError,
        delete_item::DeleteItemError,
        query::QueryError,
        scan::ScanError,
        batch_get_item::BatchGetItemError,
        batch_write_item::BatchWriteItemError,
        transact_write_items::TransactWriteItemsError,
        transact_get_items::TransactGetItemsError,
    );
    false
}

/// The reason code of each item of a cancelled transaction (`"None"` for items that passed).
pub(crate) fn cancelled_reasons<E>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, E>,
) -> Option<Vec<String>> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_owned()).collect())
        }
        _ => None,
    }
}

/// Whether a conditional single-item write happened: `false` when its condition failed.
pub(crate) fn condition_held<O, E>(
    result: Result<O, SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) => match conditional::<E>(Guard::Item)(e) {
            StoreError::Condition(_) => Ok(false),
            other => Err(other),
        },
    }
}

/// Maps a failed condition of a single-item write to `Condition(what)`, anything else to a
/// backend failure.
pub(crate) fn conditional<E>(
    what: Guard,
) -> impl FnOnce(SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |e| {
        if e.as_service_error().and_then(|se| se.code()) == Some("ConditionalCheckFailedException") {
            StoreError::Condition(what)
        } else {
            sdk(e)
        }
    }
}

pub(crate) fn ignore_condition<E>(
    e: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> Result<(), StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match conditional::<E>(Guard::Item)(e) {
        StoreError::Condition(_) => Ok(()),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::{
        error::{ConnectorError, ErrorMetadata},
        operation::{
            batch_get_item::BatchGetItemError, batch_write_item::BatchWriteItemError, delete_item::DeleteItemError,
            get_item::GetItemError, put_item::PutItemError, query::QueryError, scan::ScanError,
            transact_get_items::TransactGetItemsError, transact_write_items::TransactWriteItemsError,
            update_item::UpdateItemError,
        },
    };

    use super::*;

    fn service_error<E>(status: u16, code: &str, make: fn(ErrorMetadata) -> E) -> SdkError<E, HttpResponse> {
        let status = status.try_into().expect("status");
        SdkError::service_error(make(ErrorMetadata::builder().code(code).build()), HttpResponse::new(status, "".into()))
    }

    #[test]
    fn throttling_5xx_timeouts_and_broken_connections_are_unavailable() {
        let unavailable = |e: StoreError| e.is_unavailable();
        assert!(unavailable(backend(service_error(400, "ThrottlingException", UpdateItemError::generic))));
        assert!(unavailable(backend(service_error(
            400,
            "ProvisionedThroughputExceededException",
            QueryError::generic
        ))));
        assert!(unavailable(backend(service_error(400, "RequestLimitExceeded", GetItemError::generic))));
        assert!(unavailable(backend(service_error(500, "InternalServerError", PutItemError::generic))));
        assert!(unavailable(backend(service_error(503, "", BatchGetItemError::generic))));
        assert!(unavailable(backend(SdkError::<DeleteItemError, HttpResponse>::timeout_error("slow"))));
        let io = ConnectorError::io("connection reset".into());
        assert!(unavailable(backend(SdkError::<BatchWriteItemError, HttpResponse>::dispatch_failure(io))));
        // Not "not now": a refused request, a failed condition, our own mistake.
        let refused = service_error(400, "ValidationException", TransactWriteItemsError::generic);
        assert!(!unavailable(backend(refused)));
        let condition = service_error(400, "ConditionalCheckFailedException", UpdateItemError::generic);
        assert!(matches!(conditional(Guard::Space)(condition), StoreError::Condition(Guard::Space)));
        let user = ConnectorError::user("bad endpoint".into());
        assert!(!unavailable(backend(SdkError::<ScanError, HttpResponse>::dispatch_failure(user))));
        assert!(!unavailable(backend(SdkError::<TransactGetItemsError, HttpResponse>::construction_failure("x"))));
        assert!(!unavailable(backend(std::io::Error::other("not an SDK call"))));
    }

    #[test]
    fn every_operation_the_adapter_calls_is_recognised() {
        let timeout = |e: StoreError| e.is_unavailable();
        assert!(timeout(backend(SdkError::<GetItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<PutItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<UpdateItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<DeleteItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<QueryError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<ScanError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<BatchGetItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<BatchWriteItemError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<TransactWriteItemsError, HttpResponse>::timeout_error("t"))));
        assert!(timeout(backend(SdkError::<TransactGetItemsError, HttpResponse>::timeout_error("t"))));
    }
}
