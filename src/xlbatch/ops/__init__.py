"""Operations: running unattended.

execute  the executors that run the read stage (in process, local processes, a Dask cluster);
outbox   the outbox's lock, run folders and atomic publication;
ledger   the SQLite ledger of runs, published outputs and cached read outcomes;
logs     the JSON-lines run log.
"""
