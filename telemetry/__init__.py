"""What the system is doing, for operators: Prometheus metrics, structured logs, health.

A bottom-level package (standard library and prometheus-client only): every other package may
import it; it imports none of them.
"""
