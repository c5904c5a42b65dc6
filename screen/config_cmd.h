/*
 * config_cmd - `doorman check` (as `postfix check`) and `doorman config`
 * (as postconf: -n set values, -d defaults, -x expanded), `doorman query`.
 */
#ifndef DOORMAN_CONFIG_CMD_H
#define DOORMAN_CONFIG_CMD_H

int	config_cmd_check(void);
/* argv[0] is "config". */
int	config_cmd_print(int argc, char **argv);
/* `doorman query IP`: the access list's verdict, then every DNSBL's. */
int	config_cmd_query(const char *ip);
/* `doorman status`, from the daemon whose data_directory the config names. */
int	config_cmd_status(void);

#endif
