/**
 * The SMPP channel against two SMSCs: the sandbox's own, and Debian's Net::SMPP (an implementation we did not
 * write). Net::SMPP is skipped with a notice where libnet-smpp-perl is missing, unless CI requires it.
 */
import { spawnSync } from "node:child_process";
import { runSmppConformance } from "./conformance/smpp.js";
import { netSmppPeer, sandboxSmscPeer } from "./smpp/peers.js";
import { peerAvailable } from "./support/peers.js";

runSmppConformance("the sandbox SMSC", () => sandboxSmscPeer("127.0.0.80"));

const netSmpp = peerAvailable("net-smpp", () => spawnSync("perl", ["-MNet::SMPP", "-e", "1"]).status === 0);
if (netSmpp) runSmppConformance("Net::SMPP (libnet-smpp-perl)", () => netSmppPeer("127.0.0.81"));
