import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { AccessSchema } from '../config/access';
import { InventoryFiles } from '../service/inventories';
import { RunService } from '../service/runs';
import { Authenticator } from './auth';
import { buildApi } from './server';

/** The OpenAPI 3 document of the API, generated from its zod schemas (no server or Temporal needed). */
export async function openApiDocument(): Promise<unknown> {
  const access = AccessSchema.parse({});
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const app = await buildApi({ service: new RunService(new Client({ connection }), 'openapi', new InventoryFiles([]), access), auth: new Authenticator(access) });
  await app.ready();
  const doc = app.swagger();
  await app.close();
  await connection.close();
  return doc;
}

/** Writes api/openapi.json (npm run openapi); a test checks the committed file matches. */
if (require.main === module) {
  void openApiDocument().then((doc) => writeFileSync(join(__dirname, 'openapi.json'), `${JSON.stringify(doc, null, 2)}\n`));
}
