"""Operations: running unattended.

execute      the executors that run the read stage (in process, local processes, a Dask cluster);
outbox       the outbox's lock, run folders and atomic publication;
ledger       the ledger of runs, published outputs and cached read outcomes; CachingExecutor;
ledger_file  the ledger's SQLite file: schema, row checksums, quick_check, setting a damaged file aside;
logs         the JSON-lines run log;
stopping     a stop asked for by a signal, honoured where the run can stop.
"""
