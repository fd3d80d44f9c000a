-- One database per service (docker-compose; deploy/postgres/postgres.sh does the same locally).
CREATE DATABASE intake;
CREATE DATABASE referral;
CREATE DATABASE registry;
