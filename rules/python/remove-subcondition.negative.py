def ready(job):
    if job.done:
        return not job.failed
    return False
