#include "shim.h"

#include "lib/cpumask.h"
#include "lib/protocol.h"
#include "lib/container_id.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

int shim_parse_options(int argc, char **argv, struct shim_options *opt, wr_error *err)
{
    static const struct option longopts[] = {
        {"id", required_argument, NULL, 'i'},
        {"image", required_argument, NULL, 'm'},
        {"lowerdir", required_argument, NULL, 'l'},
        {"state-dir", required_argument, NULL, 's'},
        {"tmpfs-size", required_argument, NULL, 't'},
        {"workload-cpus", required_argument, NULL, 'c'},
        {"security", required_argument, NULL, 'S'},
        {"resource", required_argument, NULL, 'r'},
        {"network", required_argument, NULL, 'n'},
        {"publish", required_argument, NULL, 'p'},
        {"net-helper", required_argument, NULL, 'H'},
        {"publish-at", required_argument, NULL, 'P'},
        {"volume", required_argument, NULL, 'v'},
        {"netns-recycle", no_argument, NULL, 'N'},
        {"netns-reuse", required_argument, NULL, 'U'},
        {"sysfs-kept", no_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;
    memset(opt, 0, sizeof *opt);
    wr_security_profile_default(&opt->security);
    if (argc > 0) {
        opt->cmdline_area = argv[0];
        opt->cmdline_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 - argv[0]);
    }
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'i':
            opt->id = optarg;
            break;
        case 'm':
            opt->image = optarg;
            break;
        case 'l':
            opt->lowerdir = optarg;
            break;
        case 's':
            opt->state_dir = optarg;
            break;
        case 't':
            errno = 0;
            opt->tmpfs_bytes = strtoull(optarg, &end, 10);
            if (errno || *end || opt->tmpfs_bytes < 1024 * 1024)
                return wr_error_set(err, 0, "--tmpfs-size must be a byte count of at least 1 MiB");
            break;
        case 'c':
            if (wr_cpumask_parse(optarg, &opt->workload_cpus, err) < 0)
                return -1;
            opt->pinned = true;
            break;
        case 'S':
            if (wr_security_decode(optarg, &opt->security, err) < 0)
                return -1;
            break;
        case 'r': {
            char *eq = strchr(optarg, '=');
            if (!eq)
                return wr_error_set(err, 0, "--resource takes key=value");
            *eq = '\0';
            int rc = wr_resources_set(&opt->resources, optarg, eq + 1, err);
            *eq = '=';
            if (rc < 0)
                return -1;
            opt->has_resources = true;
            break;
        }
        case 'n':
            if (wr_net_mode_parse(optarg, &opt->net, err) < 0)
                return -1;
            break;
        case 'p': {
            struct wr_publish p;
            if (opt->n_publish >= WR_PUBLISH_MAX)
                return wr_error_set(err, E2BIG, "at most %d -p options", WR_PUBLISH_MAX);
            if (wr_publish_parse(optarg, &p, err) < 0)
                return -1;
            opt->publish[opt->n_publish++] = optarg;
            break;
        }
        case 'H':
            opt->net_helper = optarg;
            break;
        case 'P': /* fill (this shim publishes) or activation (the daemon does) */
            if (strcmp(optarg, "activation") != 0 && strcmp(optarg, "fill") != 0)
                return wr_error_set(err, EINVAL, "--publish-at takes fill or activation");
            opt->publish_at_activation = strcmp(optarg, "activation") == 0;
            break;
        case 'v':
            if (wr_volume_decode_add(&opt->volumes, optarg, err) < 0)
                return -1;
            break;
        case 'N':
            opt->netns_recycle = true;
            break;
        case 'U':
            errno = 0;
            opt->netns_sockets = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || opt->netns_sockets < 0)
                return wr_error_set(err, 0, "--netns-reuse takes a socket count");
            opt->netns_reuse = true;
            break;
        case 'K':
            opt->sysfs_kept = true;
            break;
        default:
            return wr_error_set(err, 0, "unknown option");
        }
    }
    if (!opt->id || !wr_container_id_valid(opt->id) || strlen(opt->id) != WR_ID_LEN)
        return wr_error_set(err, 0, "--id must be a %d-character container id", WR_ID_LEN);
    /* The CPUs a pinned warm container returns to on activation are the
     * ones its resource settings allow, when they restrict them. */
    if (opt->pinned && opt->has_resources)
        wr_resources_workload_cpus(&opt->resources, &opt->workload_cpus);
    if (opt->net.kind == WR_NET_CNI && !opt->net_helper)
        return wr_error_set(err, EINVAL, "--network cni needs --net-helper");
    if (opt->n_publish &&
        ((opt->net.kind != WR_NET_BRIDGE && opt->net.kind != WR_NET_CNI) || !opt->net_helper))
        return wr_error_set(err, EINVAL, "-p needs --network bridge or cni (and --net-helper)");
    if (opt->publish_at_activation && (opt->net.kind != WR_NET_BRIDGE || !opt->n_publish))
        return wr_error_set(err, EINVAL, "--publish-at activation needs -p on a bridge network");
    /* The recycling boundary (docs/security.md): network mode none only,
     * never with a user namespace (it would own the network namespace). */
    if ((opt->netns_recycle || opt->netns_reuse) &&
        (opt->security.userns_size || opt->net.kind != WR_NET_NONE))
        return wr_error_set(err, 0,
                            "--netns-recycle and --netns-reuse need --network none, no --userns");
    if (opt->sysfs_kept && !opt->netns_reuse)
        return wr_error_set(err, 0, "--sysfs-kept needs --netns-reuse");
    if (!opt->image || !opt->lowerdir || !opt->state_dir || !opt->tmpfs_bytes)
        return wr_error_set(err, 0,
                            "--image, --lowerdir, --state-dir and --tmpfs-size are required");
    return 0;
}
