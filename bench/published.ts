// Published record/replay and replication figures that lockstep's results are set beside, with
// where each comes from. They were measured on other systems, workloads and hardware: they say
// what the field reached, not what lockstep would score on their benchmarks.

export interface Published {
  system: string;
  what: string;
  figure: string;
  source: string;
}

export const published: Published[] = [
  { system: 'VMware FT (vSphere 4)', what: 'whole-VM primary/backup, uniprocessor VMs', figure: '94–98% of native speed; log traffic under 20 Mbit/s on most workloads',
    source: 'Scales, Nelson, Venkitachalam, "The Design of a Practical System for Fault-Tolerant Virtual Machines", SIGOPS OSR 2010' },
  { system: 'Scribe', what: 'OS-level multiprocessor record, server workloads', figure: 'about 2.5% record overhead',
    source: 'Laadan, Viennot, Nieh, "Transparent, Lightweight Application Execution Replay on Commodity Multiprocessor Operating Systems", SIGMETRICS 2010' },
  { system: 'Chimera', what: 'record of data-race-free-made programs (static race detection + weak locks)', figure: 'about 2.5% record overhead on servers',
    source: 'Lee, Chen, Flinn, Narayanasamy, "Chimera: Hybrid Program Analysis for Determinism", PLDI 2012' },
  { system: 'Kendo', what: 'deterministic multithreading of lock-based programs', figure: '16% average overhead',
    source: 'Olszewski, Ansel, Amarasinghe, "Kendo: Efficient Deterministic Multithreading in Software", ASPLOS 2009' },
  { system: 'Respec', what: 'online multiprocessor replay (speculative)', figure: '18% overhead at 2 threads, 55% at 4',
    source: 'Lee, Wester, Veeraraghavan, Narayanasamy, Chen, Flinn, "Respec: Efficient Online Multiprocessor Replay via Speculation and External Determinism", ASPLOS 2010' },
  { system: 'rr', what: 'user-space record/replay of Linux processes', figure: 'about 1.2× record slowdown on low-parallelism workloads, but every thread serialised onto one core',
    source: "O'Callahan et al., \"Engineering Record and Replay for Deployability\", USENIX ATC 2017" },
  { system: 'Rex', what: 'replicated multi-threaded servers (record on primary, replay on secondaries)', figure: 'up to 16× the throughput of a single-threaded replicated state machine',
    source: 'Guo, Hong, Lin, Zhou, Zhang, Yuan, "Rex: Replication at the Speed of Multi-core", EuroSys 2014' },
];
