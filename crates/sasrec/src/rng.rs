//! The one random generator libtorch has per process, held by seeded sections.

use std::sync::Mutex;

/// libtorch has one random generator per process (initialisation and dropout draw from it), so
/// seeded sections of training take turns: two fits with one seed give the same model whether
/// they run one after the other or in two threads at once.
static TORCH_RNG: Mutex<()> = Mutex::new(());

/// Holds libtorch's random generator for a seeded section (a poisoned lock is still a lock).
pub(crate) fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}
