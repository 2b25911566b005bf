/*
 * format.h: the results file's vocabulary, in one place: the values of
 * `status` and `run_state`, and the names of the variables and attributes
 * every cell kind shares. The writer (h5out.c) creates them, the reader
 * (results.c) and report read them, and the file states them too: `status`
 * and `run_state` carry CF flag_values/flag_meanings, the root attribute
 * `cell_kind` names the kind, so runner-plot and h5py users read the file's
 * own words instead of copying these numbers.
 *
 * A cell kind's own variables and trailing dimensions are described by its
 * layout (layout.h, filled by cells/<kind>); the per-cell config strings by
 * its records (cells/kind.h).
 *
 * Not here: how the file is laid out on disk and why (h5out.h).
 */
#ifndef RUNNER_FORMAT_H
#define RUNNER_FORMAT_H

/* status [cells]: int8. */
enum { STATUS_PENDING = 0, STATUS_OK = 1, STATUS_DIVERGED = 2, STATUS_FAILED = 3, STATUS__COUNT };
#define FORMAT_STATUS_MEANINGS "pending ok diverged failed" /* flag_meanings, in value order */

/* run_state (scalar): int8. */
typedef enum { RUN_RUNNING = 0, RUN_COMPLETE = 1, RUN_INTERRUPTED = 2, RUN_STOPPED = 3, RUN__COUNT } run_state_t;
#define FORMAT_RUN_STATE_MEANINGS "running complete interrupted stopped"

/* Per-cell variables every kind has, over the cell axes. */
#define FORMAT_STATUS "status"
#define FORMAT_FAILURE "failure"
#define FORMAT_WALL_SECONDS "wall_seconds"
#define FORMAT_CELL_SEED "cell_seed"
#define FORMAT_CELL_STEPS "cell_steps"
#define FORMAT_OPTIMIZER_CONFIG "optimizer_config"
#define FORMAT_RUN_STATE "run_state"
#define FORMAT_END_TIME "end_time" /* scalar float64, CF time: when the run last ended */

/* A ragged study (config/ragged.h) has one cell dimension, `cell`, instead
 * of one per axis. Each axis is then a coordinate variable over `cell`:
 * `run` (text), a grid path (float64, or text when its values are not all
 * numbers), `seed` (int64, the seed the cell used); a cell that the axis
 * does not reach holds NaN or the empty text. Every per-cell variable
 * names them in its CF `coordinates` attribute, which xarray reads. */
#define FORMAT_CELL_DIM "cell"
#define FORMAT_COORDINATES "coordinates"
/* A study with select: (config/select.h): `phase` [cell] ("tune" or
 * "final", a coordinate), `selected_cell` [cell] (int64: the tuning cell a
 * final cell reruns, -1 otherwise) and the root attribute `select` (the
 * rule, as written). Its per-cell text is fixed-length UTF-8 (with
 * _Encoding, which xarray reads): the choice is written after creation,
 * and a fixed-length write changes no metadata. */
#define FORMAT_PHASE "phase"
#define FORMAT_SELECTED_CELL "selected_cell"
#define FORMAT_SELECT "select"

/* Root attributes. */
#define FORMAT_TITLE "title"
#define FORMAT_CELL_KIND "cell_kind" /* "analytic" or "training": the kind's name (cells/kind.h) */
#define FORMAT_CONFIG_FILE "config_file"
#define FORMAT_CONFIG_TEXT "config_text"
#define FORMAT_RESOLVED_CONFIG "resolved_config"
#define FORMAT_COMMAND_LINE "command_line"
#define FORMAT_RUNNER_VERSION "runner_version"
#define FORMAT_PLUGIN_ABI "plugin_abi"
#define FORMAT_CREATED "created"
#define FORMAT_PLUGINS "plugins"
#define FORMAT_CONFIG_FINGERPRINT "config_fingerprint"
#define FORMAT_PLUGIN_FILES "plugin_files" /* "SHA256  PATH" lines (sha256sum -c reads them) */
#define FORMAT_DATA_FILES "data_files"     /* the same for the data files read */
/* and the provenance attributes of results/provenance.h */

/* Variable attributes (CF conventions). */
#define FORMAT_LONG_NAME "long_name"
#define FORMAT_UNITS "units"
#define FORMAT_FLAG_VALUES "flag_values"
#define FORMAT_FLAG_MEANINGS "flag_meanings"

#endif
