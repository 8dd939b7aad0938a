// Applies pending migrations to DATABASE_URL (default: the embedded SQLite file), offline.
import { DEFAULT_DATABASE_URL, migrateDatabase } from '../dist/index.js';

const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const { applied } = await migrateDatabase({ url });
console.error(applied.length === 0 ? 'database is up to date' : `applied ${applied.join(', ')}`);
