/** Child process for crash.test.ts: records one fill against the server, to be killed mid-way. */
import { openDatabase } from '../../db/client';
import { recordFill } from '../../db/repositories/fills';

const database = await openDatabase({ kind: 'postgres', url: process.env.CRASH_URL!, schema: process.env.CRASH_SCHEMA!, poolSize: 1 }, { migrate: false });
await recordFill(database.db, JSON.parse(process.env.CRASH_FILL!));
process.stdout.write('finished\n');
await database.close();
