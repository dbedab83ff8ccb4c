//! Turns for signing on a worker's event loop, so that signatures cannot starve its I/O.
//!
//! A local key signs in place, on the worker thread that serves the request: a signature
//! (0.25 to 0.7 ms) is cheaper to make than to hand to another thread. But actix-server runs
//! each worker on a tokio current-thread runtime that looks for I/O only when it runs out
//! of ready tasks, or after 61 task polls. When most ready tasks are about to sign, that is
//! up to 40 ms in which no new request is read and no STS call started; with a slow STS
//! the worker then runs dry now and then, all its requests waiting on STS at once.
//!
//! So each worker thread signs in turns of [`SIGNATURES_PER_TURN`]. A task that would go
//! beyond its turn's signatures waits, in arrival order, and the first of the waiting
//! tasks yields to the scheduler, which wakes it only once it has run every other ready
//! task and polled its I/O driver (`tokio::task::yield_now`); then it opens the next turn
//! for itself and the tasks behind it. The state is per thread; on any other kind of
//! runtime, or outside one, signatures are not rationed.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::{Poll, Waker};

use tokio::runtime::{Handle, RuntimeFlavor};

/// Signatures a worker makes between two looks at its I/O: a few milliseconds of RSA at
/// most, and one more `epoll_wait` every few tokens at least.
pub const SIGNATURES_PER_TURN: u64 = 4;

/// One worker thread's turns.
struct Turns {
    /// The next ticket to hand out; tickets are taken in arrival order.
    next_ticket: Cell<u64>,
    /// Tickets below this may sign.
    admitted_below: Cell<u64>,
    /// Whether a task is yielding to open the next turn.
    opening: Cell<bool>,
    /// Tasks waiting for a turn, by ticket, lowest first.
    waiting: RefCell<VecDeque<(u64, Waker)>>,
}

thread_local! {
    static TURNS: Turns = const {
        Turns {
            next_ticket: Cell::new(0),
            admitted_below: Cell::new(SIGNATURES_PER_TURN),
            opening: Cell::new(false),
            waiting: RefCell::new(VecDeque::new()),
        }
    };
}

/// Waits until this task may sign on this thread.
pub async fn take_turn() {
    let on_worker = Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::CurrentThread);
    if !on_worker {
        return;
    }
    let mut ticket = Ticket {
        number: TURNS.with(Turns::take_ticket),
        state: State::Waiting,
    };
    loop {
        match TURNS.with(|turns| turns.step(&mut ticket)) {
            Step::Sign => return,
            Step::Wait => poll_fn(|cx| TURNS.with(|turns| turns.wait(&ticket, cx.waker()))).await,
            Step::Open => {
                // Deferred by the scheduler until it has polled its I/O driver.
                tokio::task::yield_now().await;
                TURNS.with(|turns| turns.open(ticket.number));
                ticket.state = State::Admitted;
                return;
            }
        }
    }
}

/// Where a ticket stands; what its drop must undo.
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Opening,
    Admitted,
}

/// What a waiting task does next.
enum Step {
    Sign,
    Wait,
    Open,
}

struct Ticket {
    number: u64,
    state: State,
}

impl Drop for Ticket {
    /// A request can be dropped while it waits (its client went away, or the service is
    /// stopping). Its place is given up, and if it was to open the next turn, the next
    /// waiting task is woken to open it instead, so that the others are not left waiting.
    fn drop(&mut self) {
        if self.state == State::Admitted {
            return;
        }
        let _ = TURNS.try_with(|turns| {
            if self.state == State::Opening {
                turns.opening.set(false);
            }
            let mut waiting = turns.waiting.borrow_mut();
            unqueue(&mut waiting, self.number);
            if !turns.opening.get()
                && let Some((_, next)) = waiting.front()
            {
                next.wake_by_ref();
            }
        });
    }
}

impl Turns {
    fn take_ticket(&self) -> u64 {
        let ticket = self.next_ticket.get();
        self.next_ticket.set(ticket + 1);
        ticket
    }

    /// Whether `ticket` may sign now, must open the next turn, or must wait for it.
    fn step(&self, ticket: &mut Ticket) -> Step {
        let mut waiting = self.waiting.borrow_mut();
        if ticket.number < self.admitted_below.get() {
            // Not queued: `open` takes every ticket it admits off the queue.
            debug_assert!(position(&waiting, ticket.number).is_err());
            ticket.state = State::Admitted;
            return Step::Sign;
        }
        let first_in_line = waiting
            .front()
            .is_none_or(|(number, _)| *number >= ticket.number);
        if !self.opening.get() && first_in_line {
            unqueue(&mut waiting, ticket.number);
            self.opening.set(true);
            ticket.state = State::Opening;
            return Step::Open;
        }
        Step::Wait
    }

    /// Queues `ticket` until a turn opens for it, or until it is woken, first in line, to
    /// open one.
    fn wait(&self, ticket: &Ticket, waker: &Waker) -> Poll<()> {
        let mut waiting = self.waiting.borrow_mut();
        if ticket.number < self.admitted_below.get() {
            return Poll::Ready(());
        }
        if let Some((number, _)) = waiting.front()
            && *number == ticket.number
            && !self.opening.get()
        {
            return Poll::Ready(());
        }
        register(&mut waiting, ticket.number, waker);
        Poll::Pending
    }

    /// Opens a turn for `ticket` and the tasks behind it, and wakes them; the first task
    /// left waiting is woken too, to open the turn after.
    fn open(&self, ticket: u64) {
        self.opening.set(false);
        self.admitted_below.set(ticket + SIGNATURES_PER_TURN);
        let mut waiting = self.waiting.borrow_mut();
        while let Some((number, _)) = waiting.front() {
            if *number >= self.admitted_below.get() {
                break;
            }
            if let Some((_, waker)) = waiting.pop_front() {
                waker.wake();
            }
        }
        if let Some((_, next)) = waiting.front() {
            next.wake_by_ref();
        }
    }
}

/// Where `ticket` is in the queue, which is sorted by ticket, or where it would go.
fn position(waiting: &VecDeque<(u64, Waker)>, ticket: u64) -> Result<usize, usize> {
    waiting.binary_search_by_key(&ticket, |(number, _)| *number)
}

/// Queues `ticket` with `waker`, or updates its waker if it is queued already.
fn register(waiting: &mut VecDeque<(u64, Waker)>, ticket: u64, waker: &Waker) {
    match position(waiting, ticket) {
        Ok(index) => waiting[index].1.clone_from(waker),
        Err(index) => waiting.insert(index, (ticket, waker.clone())),
    }
}

/// Takes `ticket` off the queue, if it is there.
fn unqueue(waiting: &mut VecDeque<(u64, Waker)>, ticket: u64) {
    if let Ok(index) = position(waiting, ticket) {
        waiting.remove(index);
    }
}

#[cfg(test)]
mod tests;
