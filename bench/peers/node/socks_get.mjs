// The Node peer of bench/apps/socks get.lua: count GETs of url through a
// SOCKS5 proxy (hostname sent to the proxy), in_flight at a time, keep-alive.
import http from "node:http";
import { SocksProxyAgent } from "socks-proxy-agent";
const [count, url, proxy, inFlight] = [Number(process.argv[2]), process.argv[3], process.argv[4], Number(process.argv[5])];
const agent = new SocksProxyAgent(`socks5h://${proxy}`, { keepAlive: true, maxSockets: inFlight });
function get() {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (response) => {
      response.resume();
      response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
    }).on("error", reject);
  });
}
let next = 0;
async function worker() {
  while (next < count) {
    next++;
    await get();
  }
}
await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
agent.destroy();
