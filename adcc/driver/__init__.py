"""The compiler driver: flag table, fast path, AD pipeline stages, link step, runtime build."""
