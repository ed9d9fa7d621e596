// A stand-alone s3rver for benchmarks (its own process, so its CPU and memory are not the
// appliance's). Prints `{"port":N}` once listening. Args: <data dir> <bucket>.
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

const [dir, bucket] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
server.run().then((address: { port: number }) => console.log(JSON.stringify({ port: address.port })));
