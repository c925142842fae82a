// The Node peer of the Lua endpoint in bench/apps/web: the same JSON body.
import http from "node:http";
const body = JSON.stringify({ ok: true, service: "wippy", version: 1 });
const port = Number(process.argv[2]);
http.createServer((request, response) => {
  response.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
  response.end(body);
}).listen(port, "127.0.0.1");
