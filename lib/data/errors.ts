/**
 * `DataError`: a bad data file, reported with the file, the field and what is
 * wrong, so that a user can fix it without reading code.
 *
 * @module
 */

/** A problem in a data file, found before training. */
export class DataError extends Error {
  /**
   * @param file the data file (path as the user gave it)
   * @param field the dataset, column, key or line within it
   * @param problem what is wrong, with the values found
   * @param fix how to fix it, when there is an obvious fix
   */
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
    readonly fix?: string,
  ) {
    super(`${file}: ${field}: ${problem}${fix ? `\n  fix: ${fix}` : ""}`);
    this.name = "DataError";
  }
}

/** Throws a {@link DataError} naming the first non-finite value of `values`, if any. */
export function assertFinite(
  values: ArrayLike<number>,
  file: string,
  field: string,
  rowWidth = 1,
  rowOffset = 0,
): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      const row = rowOffset + Math.floor(i / rowWidth), col = i % rowWidth;
      throw new DataError(
        file,
        field,
        `value ${values[i]} at row ${row}, column ${col} is not finite`,
        "remove or impute NaN/infinite features before training",
      );
    }
  }
}
