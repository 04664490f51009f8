"""Article extraction: trafilatura on fetched HTML, in worker processes."""
