/** The base of every store: holds the database handle and turns driver errors into coded Lockstep errors. */
import { Db } from './connection';
import { mapDbError } from './errors';

export abstract class Store {
  constructor(protected readonly db: Db) {}

  /** Runs one store operation; any driver error leaves as a coded error naming the database. */
  protected async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapDbError(err, this.db.target);
    }
  }
}
