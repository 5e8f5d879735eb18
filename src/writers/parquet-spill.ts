// How DuckDBWriter's download database spills: its DuckDB settings and the size of a part.

/** Our choice: DuckDB's memory for one download (the final sort spills past it to disk). */
export const SPILL_MEMORY_LIMIT = '128MB';

/**
 * Our choice, measured in `npm run bench -- storage` (peak RSS of a fresh process writing 1M vs
 * 10M rows: 203 / 216 MB, against 296 / 374 MB with DuckDB's defaults): the settings of a
 * download's DuckDB. One thread, as the rows arrive one page at a time anyway: a second thread
 * gave each COPY its own Parquet buffers and allocator cache, so peak RSS grew with the range
 * and the run took longer. The allocator returns freed memory after each task past 8 MB
 * instead of DuckDB's default of 128 MB, which kept ~60 MB of dead spill buffers resident.
 */
export const SPILL_DUCKDB_SETTINGS: Readonly<Record<string, string>> = {
  memory_limit: SPILL_MEMORY_LIMIT,
  threads: '1',
  allocator_flush_threshold: '8MB',
  allocator_bulk_deallocation_flush_threshold: '8MB',
};

/**
 * Our choice: rows held in memory before they go to a Parquet spill part (one of DuckDB's
 * 122,880-row row groups, ~16 MB). Memory stays flat however long the range: 10 years of 1s
 * bars is 315M rows.
 */
export const DEFAULT_SPILL_ROWS = 122_880;

/**
 * Our choice: row-group size of a spill part (a quarter of DuckDB's 122,880). DuckDB's Parquet
 * writer buffers a whole row group, so each spill's RSS spike is a quarter as high (p90 173 MB →
 * 145 MB over 80 spills). `finalize` reads the parts and writes the usual 122,880-row groups.
 */
export const SPILL_PART_ROW_GROUP_ROWS = 30_720;
