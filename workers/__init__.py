"""Workers: pipeline stages (frames, recognition, evidence) and the job functions."""
