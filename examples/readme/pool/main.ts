// main.ts
import { start } from 'lockstep';

const session = await start();
session.shared('order', Int32Array, 1);
session.mutex('m');
session.onOutput((o) => console.log(o.id, o.channel, JSON.stringify(o.value)));   // ids are "thread:sequence"
const pool = session.pool(new URL('./tasks.js', import.meta.url), { workers: 4 });

const first = await Promise.race([pool.run('left', { name: 'race' }), pool.run('right', { name: 'race' })]);
const all = await pool.map([{ n: 10 }, { n: 20 }]);                     // default export, results in order
for await (const c of pool.completions(['a', 'b', 'c'], { name: 'race' })) console.log(c.index, c.ok);
console.log('first', first, 'all', all.length);
await session.finish();                                                 // closes the pool
