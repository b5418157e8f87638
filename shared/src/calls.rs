//! Counting the AWS calls of each request, and how many of them ran one after another
//! (its sequential round trips): on when `COUNT_AWS_CALLS=1` (the test stack sets it). An
//! SDK interceptor on the DynamoDB client, and [`record`] around the file bucket's own S3
//! requests, record every call that reaches the network into the request's log, a
//! task-local the HTTP middleware opens; the response then carries the tally in
//! `x-huddle-aws-calls`. Off (the default), the clients carry no
//! interceptor and requests open no log. Presigning makes no call and is not counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The response header with the tally.
pub const HEADER: &str = "x-huddle-aws-calls";

static ENABLED: AtomicBool = AtomicBool::new(false);

tokio::task_local! {
    static LOG: CallLog;
}

/// Whether clients count calls (set once, when a counting client is built).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The interceptor to give a client of `service` (`dynamodb`, `s3`) when counting is
/// configured, `None` otherwise.
pub fn counter(configured: bool, service: &'static str) -> Option<CallCounter> {
    if configured {
        enable();
    }
    configured.then_some(CallCounter { service })
}

/// Turns counting on (a counting client was built).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Opens the record of one call made outside the SDK (the file bucket's S3 requests): it
/// counts once [`RecordedCall::transmitted`] says a response came back, and ends when
/// dropped. Outside a request's log it records nothing.
pub fn record(service: &'static str, operation: &'static str) -> RecordedCall {
    RecordedCall {
        slot: open_call(service, operation),
    }
}

/// Adds a call to the current request's log; its place there, or `None` outside a request.
fn open_call(service: &str, operation: &str) -> Option<usize> {
    let call = Call {
        service: service.to_owned(),
        operation: operation.to_owned(),
        started: Instant::now(),
        ended: None,
        transmitted: false,
    };
    LOG.try_with(|log| {
        log.with(|calls| {
            calls.push(call);
            calls.len() - 1
        })
    })
    .ok()
}

/// Changes the call at `slot` of the current request's log (nothing outside a request).
fn update_call(slot: usize, change: impl FnOnce(&mut Call)) {
    let _outside_a_request = LOG.try_with(|log| {
        log.with(|calls| {
            if let Some(call) = calls.get_mut(slot) {
                change(call);
            }
        })
    });
}

/// One call's place in the current request's log (see [`record`]).
#[derive(Debug)]
pub struct RecordedCall {
    slot: Option<usize>,
}

impl RecordedCall {
    fn update(&self, change: impl FnOnce(&mut Call)) {
        if let Some(slot) = self.slot {
            update_call(slot, change);
        }
    }

    /// A response came back: the call was a round trip.
    pub fn transmitted(&self) {
        self.update(|call| call.transmitted = true);
    }
}

impl Drop for RecordedCall {
    fn drop(&mut self) {
        self.update(|call| call.ended = Some(Instant::now()));
    }
}

/// Runs `work` with a fresh log and returns its output with the tally of what it called.
pub async fn counted<F: std::future::Future>(work: F) -> (F::Output, Tally) {
    let log = CallLog::default();
    let output = LOG.scope(log.clone(), work).await;
    (output, log.tally())
}

/// One call: its service and operation, and when it started and ended.
#[derive(Debug, Clone)]
struct Call {
    service: String,
    operation: String,
    started: Instant,
    ended: Option<Instant>,
    transmitted: bool,
}

/// The calls of one request.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<Call>>>);

impl CallLog {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<Call>) -> T) -> T {
        let mut calls = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut calls)
    }

    /// What the request called: counts per service, the DynamoDB calls' longest chain of
    /// calls each starting after the previous one ended, and the operations in order.
    pub fn tally(&self) -> Tally {
        self.with(|calls| {
            let now = Instant::now();
            let made: Vec<&Call> = calls.iter().filter(|call| call.transmitted).collect();
            let dynamodb: Vec<(Instant, Instant)> = made
                .iter()
                .filter(|call| call.service.eq_ignore_ascii_case("dynamodb"))
                .map(|call| (call.started, call.ended.unwrap_or(now)))
                .collect();
            let every_call: Vec<(Instant, Instant)> = made
                .iter()
                .map(|call| (call.started, call.ended.unwrap_or(now)))
                .collect();
            Tally {
                waited: time_covered(every_call),
                dynamodb: dynamodb.len(),
                dynamodb_sequential: longest_chain(dynamodb),
                s3: made
                    .iter()
                    .filter(|call| call.service.eq_ignore_ascii_case("s3"))
                    .count(),
                operations: made.iter().map(|call| call.operation.clone()).collect(),
            }
        })
    }
}

/// The most intervals that can be picked so that each starts after the previous ends.
fn longest_chain(mut intervals: Vec<(Instant, Instant)>) -> usize {
    intervals.sort();
    let mut chain = vec![1usize; intervals.len()];
    for i in 0..intervals.len() {
        for j in 0..i {
            if intervals[j].1 <= intervals[i].0 {
                chain[i] = chain[i].max(chain[j] + 1);
            }
        }
    }
    chain.into_iter().max().unwrap_or(0)
}

/// How long at least one of the intervals was open (overlaps counted once).
fn time_covered(mut intervals: Vec<(Instant, Instant)>) -> Duration {
    intervals.sort();
    let mut covered = Duration::ZERO;
    let mut open: Option<(Instant, Instant)> = None;
    for (start, end) in intervals {
        open = match open {
            Some((from, to)) if start <= to => Some((from, to.max(end))),
            Some((from, to)) => {
                covered += to - from;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((from, to)) = open {
        covered += to - from;
    }
    covered
}

/// What one request called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// How long the request waited on AWS: the time at least one call was in flight.
    pub waited: Duration,
    pub dynamodb: usize,
    pub dynamodb_sequential: usize,
    pub s3: usize,
    /// The operations, in the order they started (`GetItem`, `TransactWriteItems`, ...).
    pub operations: Vec<String>,
}

impl Tally {
    /// `dynamodb=3; sequential=2; s3=0; aws_us=1830; server_us=2410;
    /// calls=GetItem,Query,TransactWriteItems`, where `server_us` is the whole request's time
    /// in the server (`elapsed`) and `aws_us` the part of it spent waiting on AWS.
    pub fn header_value(&self, elapsed: Duration) -> String {
        format!(
            "dynamodb={}; sequential={}; s3={}; aws_us={}; server_us={}; calls={}",
            self.dynamodb,
            self.dynamodb_sequential,
            self.s3,
            self.waited.as_micros(),
            elapsed.as_micros(),
            self.operations.join(",")
        )
    }
}

#[derive(Debug)]
struct CallSlot(usize);

impl Storable for CallSlot {
    type Storer = StoreReplace<Self>;
}

/// The SDK interceptor that records each call of one service's client into the current
/// request's log.
#[derive(Debug, Clone, Copy)]
pub struct CallCounter {
    service: &'static str,
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "huddle-call-counter"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(slot) = open_call(self.service, "") {
            cfg.interceptor_state().store_put(CallSlot(slot));
        }
        Ok(())
    }

    /// A response came back: the call was a round trip (presigning never gets here).
    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|metadata| metadata.name().to_owned())
            .unwrap_or_else(|| "?".to_owned());
        if let Some(CallSlot(slot)) = cfg.load::<CallSlot>() {
            update_call(*slot, |call| {
                call.transmitted = true;
                call.operation = operation;
            });
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(CallSlot(slot)) = cfg.load::<CallSlot>() {
            update_call(*slot, |call| call.ended = Some(Instant::now()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_covered_counts_overlaps_once() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let ms = Duration::from_millis;
        assert_eq!(time_covered(vec![]), Duration::ZERO);
        assert_eq!(time_covered(vec![(at(0), at(10)), (at(2), at(8))]), ms(10));
        assert_eq!(time_covered(vec![(at(5), at(12)), (at(0), at(10))]), ms(12));
        assert_eq!(time_covered(vec![(at(0), at(4)), (at(10), at(13))]), ms(7));
    }

    #[test]
    fn overlapping_calls_are_one_round_trip_and_chained_ones_add_up() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert_eq!(longest_chain(vec![]), 0);
        assert_eq!(longest_chain(vec![(at(0), at(10)), (at(1), at(9))]), 1);
        assert_eq!(
            longest_chain(vec![(at(0), at(10)), (at(2), at(8)), (at(10), at(20))]),
            2
        );
        assert_eq!(
            longest_chain(vec![(at(0), at(5)), (at(6), at(9)), (at(10), at(12))]),
            3
        );
    }
}
