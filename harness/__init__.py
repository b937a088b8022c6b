"""Helpers shared by the tests and the benchmarks: rendered rule scenes with known truth, real
server processes (S3, the API) started on free ports. Never imported by shipped code."""
