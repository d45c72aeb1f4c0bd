/** Database failures become typed errors wherever the driver's error sits in the cause chain. */
import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError, ValidationError } from "../src/index.js";
import { isConnectionError, mapDatabaseError } from "../src/internal.js";

/** What Drizzle throws: its own error with the driver's in `cause`. */
const wrapped = (cause: unknown) => Object.assign(new Error("Failed query: select 1\nparams: "), { cause });

describe("mapDatabaseError", () => {
  it("maps a dropped connection to 503 however deep the driver's error is", () => {
    for (const driver of [
      new Error("Connection terminated unexpectedly"),
      new Error("Client has encountered a connection error and is not queryable"),
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
      Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
      Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
    ]) {
      for (const error of [driver, wrapped(driver), wrapped(wrapped(driver))]) {
        expect(isConnectionError(error), driver.message).toBe(true);
        const mapped = mapDatabaseError(error);
        expect(mapped, driver.message).toBeInstanceOf(DatabaseUnavailableError);
        expect((mapped as DatabaseUnavailableError).status).toBe(503);
        expect((mapped as DatabaseUnavailableError).cause).toBe(error);
      }
    }
  });

  it("maps an invalid or out-of-range time (22007, 22008) to 422, not 500", () => {
    for (const code of ["22007", "22008"]) {
      const mapped = mapDatabaseError(wrapped(Object.assign(new Error("date/time field value out of range"), { code })));
      expect(mapped).toBeInstanceOf(ValidationError);
      expect((mapped as ValidationError).details).toEqual({ sqlstate: code });
    }
  });

  it("passes other failures through unchanged", () => {
    const other = wrapped(new Error("something else"));
    expect(mapDatabaseError(other)).toBe(other);
    expect(isConnectionError(other)).toBe(false);
  });
});
