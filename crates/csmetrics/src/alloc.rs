//! Large buffers, and the crate's only unsafe code.
//!
//! [`zeroed_buffer`] and [`filled_buffer`] ask Linux to back the pages of a large buffer with
//! transparent huge pages (`madvise(MADV_HUGEPAGE)`): writing hundreds of megabytes then takes
//! a few hundred page faults instead of tens of thousands. The system call needs `unsafe`; it
//! is the one exception to the crate's `unsafe_code = "deny"` lint, allowed on the single
//! function below and nowhere else. The advice changes how pages are backed, never their
//! contents, and is a hint the kernel may refuse.

/// A buffer of `n` zeros (all-zero bits: integers, floats, booleans) for large outputs. The
/// allocation is zeroed by the allocator, and on Linux its pages may be backed by transparent
/// huge pages: writing hundreds of megabytes then takes a few hundred page faults instead of
/// tens of thousands.
pub fn zeroed_buffer<T: Copy + Default>(n: usize) -> Vec<T> {
    let buffer = vec![T::default(); n];
    advise_huge_pages(&buffer);
    buffer
}

/// `n` copies of `value` in a buffer whose pages may be backed by transparent huge pages (see
/// [`zeroed_buffer`]); for large tables of structs indexed at random.
pub fn filled_buffer<T: Clone>(n: usize, value: T) -> Vec<T> {
    let mut buffer: Vec<T> = Vec::with_capacity(n);
    advise_huge_range(buffer.as_ptr() as usize, n * std::mem::size_of::<T>());
    buffer.resize(n, value);
    buffer
}

/// Asks the kernel to back the whole 2 MiB pages inside `buffer` with huge pages (when the
/// system allows it on request). A hint only: nothing changes when it is refused.
fn advise_huge_pages<T>(buffer: &[T]) {
    advise_huge_range(buffer.as_ptr() as usize, std::mem::size_of_val(buffer));
}

/// [`advise_huge_pages`] for `bytes` bytes of an allocation starting at address `start`.
#[allow(unsafe_code)]
fn advise_huge_range(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 4 * HUGE {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let first = start.next_multiple_of(HUGE);
        let last = (start + bytes) / HUGE * HUGE;
        if last > first {
            // SAFETY: the range lies inside the buffer's allocation, which stays valid; the
            // advice changes only how its pages are backed, never their contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
}
