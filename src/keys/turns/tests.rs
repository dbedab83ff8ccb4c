use std::rc::Rc;
use std::time::Duration;

use tokio::task::{JoinHandle, LocalSet};

use super::*;

/// Runs `body` on a fresh current-thread runtime, as an actix worker does.
fn on_worker(body: impl AsyncFnOnce()) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    LocalSet::new().block_on(&runtime, body());
}

/// Spawns a task that takes a turn and then writes `name` into `log`.
fn signer(log: &Rc<RefCell<Vec<String>>>, name: String) -> JoinHandle<()> {
    let log = log.clone();
    tokio::task::spawn_local(async move {
        take_turn().await;
        log.borrow_mut().push(name);
    })
}

#[test]
fn every_task_signs_in_arrival_order() {
    on_worker(async || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..23).map(|i| signer(&log, format!("s{i}"))).collect();
        for task in tasks {
            task.await.unwrap();
        }
        let expected: Vec<_> = (0..23).map(|i| format!("s{i}")).collect();
        assert_eq!(*log.borrow(), expected);
    });
}

#[test]
fn the_scheduler_looks_for_io_between_turns() {
    on_worker(async || {
        let log = Rc::new(RefCell::new(Vec::new()));
        // `yield_now` wakes a task only after the scheduler has polled its I/O driver, like
        // a request whose bytes have arrived: it stands for the worker's I/O.
        let io = {
            let log = log.clone();
            tokio::task::spawn_local(async move {
                for _ in 0..2 {
                    tokio::task::yield_now().await;
                    log.borrow_mut().push("io".to_string());
                }
            })
        };
        let tasks: Vec<_> = (0..12).map(|_| signer(&log, "sign".to_string())).collect();
        for task in tasks {
            task.await.unwrap();
        }
        io.await.unwrap();
        // Signatures between two looks at I/O: a turn, and the one that opens the next
        // (the order of tasks woken together is the scheduler's). Without turns, all twelve
        // would sign before the I/O was looked at.
        let log = log.borrow();
        let runs: Vec<usize> = log.split(|entry| entry == "io").map(<[_]>::len).collect();
        assert_eq!(runs.len(), 3, "{log:?}");
        assert_eq!(runs.iter().sum::<usize>(), 12, "{log:?}");
        let most = SIGNATURES_PER_TURN as usize + 1;
        assert!(runs[..2].iter().all(|&run| run <= most), "{log:?}");
    });
}

#[test]
fn a_request_dropped_while_opening_a_turn_does_not_stall_the_others() {
    on_worker(async || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..SIGNATURES_PER_TURN * 3)
            .map(|i| signer(&log, format!("s{i}")))
            .collect();
        // Runs after every signer's first poll: the first turn has signed, and the task
        // after it is yielding to open the second.
        let opener = tasks[SIGNATURES_PER_TURN as usize].abort_handle();
        tokio::task::spawn_local(async move {
            assert!(TURNS.with(|turns| turns.opening.get()));
            opener.abort();
        });
        all_finish(tasks, SIGNATURES_PER_TURN as usize).await;
        assert_eq!(log.borrow().len(), SIGNATURES_PER_TURN as usize * 3 - 1);
    });
}

#[test]
fn a_request_dropped_before_it_could_open_a_turn_does_not_stall_the_others() {
    on_worker(async || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let turn = SIGNATURES_PER_TURN as usize;
        let victim: Rc<RefCell<Option<tokio::task::AbortHandle>>> = Rc::default();
        let mut tasks = Vec::new();
        for i in 0..turn * 3 {
            let (log, victim) = (log.clone(), victim.clone());
            tasks.push(tokio::task::spawn_local(async move {
                take_turn().await;
                log.borrow_mut().push(format!("s{i}"));
                // The last of the second turn drops the task woken to open the third,
                // before that task runs.
                if i == 2 * turn - 1 {
                    victim.borrow_mut().take().unwrap().abort();
                }
            }));
        }
        *victim.borrow_mut() = Some(tasks[2 * turn].abort_handle());
        all_finish(tasks, 2 * turn).await;
        assert_eq!(log.borrow().len(), turn * 3 - 1);
    });
}

/// Awaits every task but `aborted`, failing if they do not all finish within a second.
async fn all_finish(tasks: Vec<JoinHandle<()>>, aborted: usize) {
    let finished = async {
        for (index, task) in tasks.into_iter().enumerate() {
            let outcome = task.await;
            if index == aborted {
                assert!(outcome.unwrap_err().is_cancelled());
            } else {
                outcome.unwrap();
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(1), finished)
        .await
        .expect("the remaining tasks were left waiting");
}

#[test]
fn there_are_no_turns_on_a_multi_threaded_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    runtime.block_on(async {
        let before = TURNS.with(|turns| turns.next_ticket.get());
        for _ in 0..SIGNATURES_PER_TURN * 2 {
            take_turn().await;
        }
        assert_eq!(TURNS.with(|turns| turns.next_ticket.get()), before);
    });
}
